"""PostgreSQL: ``hublog_advance`` passes over a last recorded_at that Python
cannot hold, as the step-by-step append already did.

0004's function skipped the hub's last time only when it was ±infinity.  A
damaged row with a finite time outside years 1–9999 (``10000-01-01``, say)
then won ``GREATEST(clock_timestamp(), v_last)``: every new event was
stamped with it, read back as a corrupt time, and the hub's clock stayed
stuck there.  The fallback append (adapters/sql/statements.py,
``last_recorded_at``) reads such a time as NULL; now both paths agree.
Tables are untouched.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As 0004's, but the last time counts only inside the range Python (and so
# psycopg and the reader) can hold: statements._IN_PYTHON_RANGE.  A time
# outside it, infinite or not, is damage and must not stop the clock.
ADVANCE = """
CREATE OR REPLACE FUNCTION hublog_advance(
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
    IF NOT v_last BETWEEN '0001-01-01 00:00:00+00' AND '9999-12-31 23:59:59.999999+00' THEN
        v_last := NULL;
    END IF;
    RETURN QUERY SELECT v_head, v_version, GREATEST(clock_timestamp(), v_last);
END
$$
"""


def _revision_0004_advance() -> str:
    """0004's function text, for the downgrade (migrations are not a package)."""
    path = Path(__file__).with_name("0004_deleted_event_ids.py")
    spec = importlib.util.spec_from_file_location("hublog_migration_0004", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.ADVANCE).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(ADVANCE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_revision_0004_advance())
