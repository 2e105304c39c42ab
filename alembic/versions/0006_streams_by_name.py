"""An index of streams by name: the hubs that have an instance's stream, in
one probe however many hubs the log holds (``EventStore.hubs_with_stream``,
what the hub API's calls by instance id look up).

The primary key of ``hublog_streams`` is (hub_id, stream), which finds a
stream only within a hub; without this index the lookup read every hub's
rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_hublog_streams_stream", "hublog_streams", ["stream"])


def downgrade() -> None:
    op.drop_index("ix_hublog_streams_stream", table_name="hublog_streams")
