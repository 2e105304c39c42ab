"""The event log: hubs, stream versions and events.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hublog_hubs",
        sa.Column("hub_id", sa.String(200), primary_key=True),
        sa.Column("head", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "hublog_streams",
        sa.Column("hub_id", sa.String(200), primary_key=True),
        sa.Column("stream", sa.String(210), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "hublog_events",
        sa.Column("hub_id", sa.String(200), primary_key=True),
        sa.Column("position", sa.BigInteger, primary_key=True),
        sa.Column("stream", sa.String(210), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correlation_id", sa.String(200), nullable=True),
        sa.Column("causation_id", sa.String(200), nullable=True),
        sa.UniqueConstraint("hub_id", "stream", "version", name="uq_hublog_events_stream_version"),
        sa.UniqueConstraint("hub_id", "event_id", name="uq_hublog_events_event_id"),
    )
    op.create_index("ix_hublog_events_recorded_at", "hublog_events", ["hub_id", "recorded_at"])


def downgrade() -> None:
    op.drop_table("hublog_events")
    op.drop_table("hublog_streams")
    op.drop_table("hublog_hubs")
