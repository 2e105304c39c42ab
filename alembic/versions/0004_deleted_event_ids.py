"""Deleted event ids stay known, and recorded_at never goes back.

``hublog_deleted_events`` keeps (hub, event id) -> (stream, version,
position) of every raw metric sample that ``delete_metric_samples`` removed,
so appending such a batch again is answered as the idempotent retry it is
(the original positions), not written a second time (docs/reliability.md).

On PostgreSQL ``hublog_advance`` (migration 0003) gains the batch's ids: it
refuses with SQLSTATE HL410 when one of them was deleted (the one-statement
append then falls back to the step-by-step one, which answers the retry),
and its clock is never earlier than the hub's last event, so recorded_at
follows position order even when the server's clock steps back.  SQLite has
no server side: adapters/sql/append.py does both there.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The last event by position (the primary key: one index probe), and only
# a finite time: a damaged row's infinity must not stop the clock for good.
ADVANCE = """
CREATE FUNCTION hublog_advance(
    p_hub text, p_stream text, p_n bigint, p_expected bigint, p_ids uuid[]
)
RETURNS TABLE (head bigint, version bigint, clock timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_head bigint;
    v_version bigint;
    v_last timestamptz;
BEGIN
    INSERT INTO hublog_hubs AS h (hub_id, head) VALUES (p_hub, p_n)
        ON CONFLICT (hub_id) DO UPDATE SET head = h.head + p_n
        RETURNING h.head INTO v_head;
    INSERT INTO hublog_streams AS s (hub_id, stream, version) VALUES (p_hub, p_stream, p_n)
        ON CONFLICT (hub_id, stream) DO UPDATE SET version = s.version + p_n
        RETURNING s.version INTO v_version;
    IF p_expected >= 0 AND v_version - p_n <> p_expected THEN
        RAISE EXCEPTION 'hublog: wrong expected version'
            USING ERRCODE = 'HL409', DETAIL = (v_version - p_n)::text;
    END IF;
    IF EXISTS (
        SELECT 1 FROM hublog_deleted_events AS d
        WHERE d.hub_id = p_hub AND d.event_id = ANY (p_ids)
    ) THEN
        RAISE EXCEPTION 'hublog: event id of a deleted event' USING ERRCODE = 'HL410';
    END IF;
    PERFORM pg_notify(
        'hublog_' || md5(('hublog_hubs'::regclass)::oid::text || '/' || p_hub), v_head::text
    );
    -- Each statement of a VOLATILE function sees what committed before it,
    -- so this is the previous writer's last event (we hold the hub's lock).
    SELECT e.recorded_at INTO v_last FROM hublog_events AS e
        WHERE e.hub_id = p_hub ORDER BY e.position DESC LIMIT 1;
    IF NOT isfinite(v_last) THEN
        v_last := NULL;
    END IF;
    RETURN QUERY SELECT v_head, v_version, GREATEST(clock_timestamp(), v_last);
END
$$
"""


def _revision_0003_advance() -> str:
    """0003's function text, for the downgrade (migrations are not a package)."""
    path = Path(__file__).with_name("0003_append_function.py")
    spec = importlib.util.spec_from_file_location("hublog_migration_0003", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.ADVANCE)


def upgrade() -> None:
    op.create_table(
        "hublog_deleted_events",
        sa.Column("hub_id", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("stream", sa.String(210), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION hublog_advance(text, text, bigint, bigint)")
        op.execute(ADVANCE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION hublog_advance(text, text, bigint, bigint, uuid[])")
        op.execute(_revision_0003_advance())
    op.drop_table("hublog_deleted_events")
