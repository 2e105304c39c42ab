"""The SQL tables as SQLAlchemy Core objects, for building queries: the event
log (``hublog_hubs``, ``hublog_streams``, ``hublog_events``,
``hublog_deleted_events``) and the read models (checkpoints, rows, snapshots).

The schema itself is made only by the alembic migrations in ``alembic/``; a
test compares these tables with a migrated database, so the two cannot drift.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

metadata = sa.MetaData()

NAME = sa.String(200)
STREAM = sa.String(210)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC in Python; ``timestamptz`` on PostgreSQL, naive UTC
    text on SQLite (which has no time zones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: hublog stores timezone-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


hubs = sa.Table(
    "hublog_hubs",
    metadata,
    sa.Column("hub_id", NAME, primary_key=True),
    # The hub's last position; its row lock serialises a hub's appends.
    sa.Column("head", sa.BigInteger, nullable=False),
)

streams = sa.Table(
    "hublog_streams",
    metadata,
    sa.Column("hub_id", NAME, primary_key=True),
    sa.Column("stream", STREAM, primary_key=True),
    # Kept apart from the events so retention cannot lower a version.
    sa.Column("version", sa.BigInteger, nullable=False),
    # Which hubs have a stream (hubs_with_stream): an instance id's hub, in
    # one probe whatever the number of hubs (migration 0006).
    sa.Index("ix_hublog_streams_stream", "stream"),
)

events = sa.Table(
    "hublog_events",
    metadata,
    sa.Column("hub_id", NAME, primary_key=True),
    sa.Column("position", sa.BigInteger, primary_key=True),
    sa.Column("stream", STREAM, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("event_id", sa.Uuid, nullable=False),
    sa.Column("type", NAME, nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("correlation_id", NAME, nullable=True),
    sa.Column("causation_id", NAME, nullable=True),
    sa.UniqueConstraint("hub_id", "stream", "version", name="uq_hublog_events_stream_version"),
    sa.UniqueConstraint("hub_id", "event_id", name="uq_hublog_events_event_id"),
    sa.Index("ix_hublog_events_recorded_at", "hub_id", "recorded_at"),
)

deleted_events = sa.Table(
    "hublog_deleted_events",
    metadata,
    sa.Column("hub_id", NAME, primary_key=True),
    sa.Column("event_id", sa.Uuid, primary_key=True),
    # Where a sample deleted by retention was: a retry of its batch is still
    # answered with the original positions (alembic/versions/0004).
    sa.Column("stream", STREAM, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
)


# --- read models (alembic/versions/0002_read_models.py) ---------------------

ROW_KEY = sa.String(400).with_variant(sa.String(400, collation="C"), "postgresql")
PROJECTION = sa.String(100)

checkpoints = sa.Table(
    "hublog_projection_checkpoints",
    metadata,
    sa.Column("projection", PROJECTION, primary_key=True),
    sa.Column("hub_id", NAME, primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("fingerprint", sa.String(400), nullable=False),
)

rows = sa.Table(
    "hublog_readmodel_rows",
    metadata,
    sa.Column("projection", PROJECTION, primary_key=True),
    sa.Column("hub_id", NAME, primary_key=True),
    sa.Column("table_name", sa.String(100), primary_key=True),
    sa.Column("row_key", ROW_KEY, primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Index("ix_hublog_readmodel_rows_key", "projection", "table_name", "row_key"),
)

snapshots = sa.Table(
    "hublog_projection_snapshots",
    metadata,
    sa.Column("projection", PROJECTION, primary_key=True),
    sa.Column("hub_id", NAME, primary_key=True),
    sa.Column("position", sa.BigInteger, primary_key=True),
    sa.Column("fingerprint", sa.String(400), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)
