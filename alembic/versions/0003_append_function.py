"""PostgreSQL: the append's head and version step as one server-side function.

``hublog_advance(hub, stream, n, expected)`` does what the first three of
the four append round trips did (adapters/sql/append.py): add n to the
hub's head (taking its row lock until commit) and notify the hub's channel,
add n to the stream's version, and refuse a version other than the one
expected (SQLSTATE HL409, the actual version in DETAIL) — so the append is
one ``INSERT … SELECT`` from this function, in one round trip.  SQLite has
no server side: nothing changes there.  Tables are untouched, so a log
written before this revision reads and appends as it did.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The channel is adapters/sql/follow.py's channel(): the listener computes
# the same expression, so both hash the same bytes.  clock_timestamp() is
# read once the hub's lock is ours, so recorded_at follows position order.
ADVANCE = """
CREATE FUNCTION hublog_advance(p_hub text, p_stream text, p_n bigint, p_expected bigint)
RETURNS TABLE (head bigint, version bigint, clock timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_head bigint;
    v_version bigint;
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
    PERFORM pg_notify(
        'hublog_' || md5(('hublog_hubs'::regclass)::oid::text || '/' || p_hub), v_head::text
    );
    RETURN QUERY SELECT v_head, v_version, clock_timestamp();
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(ADVANCE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION hublog_advance(text, text, bigint, bigint)")
