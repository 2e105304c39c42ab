"""Event rows to stored events, robustly: one damaged row never takes a page
— or a hub — down with it.

The envelope columns are read raw where the driver would otherwise convert
them itself and fail the whole fetch on one bad value: on SQLite the event id
and the time come as text and the payload as a blob whatever its storage
class; on PostgreSQL a ``timestamptz`` of ``infinity`` is loaded as a marker
(:func:`tolerate_infinity`) instead of failing the fetch.  A row whose
envelope cannot be read becomes a :class:`StoredEvent` with
``envelope_error`` set, which the codec turns into a CorruptEvent in its
place.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from eventstore.envelope import UNREADABLE_ID, UNREADABLE_TIME, StoredEvent

from .schema import events

INFINITE = datetime.max.replace(tzinfo=UTC)
"""What a PostgreSQL ``timestamptz`` of ±infinity is loaded as."""


def columns(dialect: str) -> tuple[sa.ColumnElement[Any], ...]:
    """The columns a page of events selects, in the order :func:`stored` reads."""
    c = events.c
    if dialect == "sqlite":
        event_id: Any = sa.type_coerce(c.event_id, sa.String)
        recorded_at: Any = sa.type_coerce(c.recorded_at, sa.String)
        data: Any = sa.cast(c.data, sa.LargeBinary)
    else:
        event_id, recorded_at, data = c.event_id, c.recorded_at, c.data
    return (
        c.hub_id, c.stream, c.version, c.position, event_id, c.type, c.schema_version,
        data, recorded_at, c.correlation_id, c.causation_id,
    )  # fmt: skip


def stored(row: sa.Row[Any]) -> StoredEvent:
    """The stored event of one row; a damaged one with ``envelope_error``."""
    (hub_id, stream, version, position, raw_id, type_, schema_version, data, raw_at,
     correlation, causation) = tuple(row)  # fmt: skip
    problems: list[str] = []
    event_id = _event_id(raw_id, problems)
    recorded_at = _time(raw_at, problems)
    return StoredEvent(
        hub_id=hub_id,
        stream=stream,
        version=version,
        position=position,
        event_id=event_id,
        type=type_,
        schema_version=schema_version,
        data=bytes(data) if data is not None else b"",
        recorded_at=recorded_at,
        correlation_id=correlation,
        causation_id=causation,
        envelope_error=(
            f"unreadable row at position {position} of hub {hub_id!r}: {'; '.join(problems)}"
            if problems
            else None
        ),
    )


def _event_id(raw: object, problems: list[str]) -> UUID:
    if isinstance(raw, UUID):
        return raw
    try:
        return UUID(str(raw))
    except ValueError:
        problems.append(f"event_id {raw!r} is not a UUID")
        return UNREADABLE_ID


def _time(raw: object, problems: list[str]) -> datetime:
    if isinstance(raw, datetime):
        if raw == INFINITE:
            problems.append("recorded_at is infinite")
            return UNREADABLE_TIME
        return raw.astimezone(UTC) if raw.tzinfo else raw.replace(tzinfo=UTC)
    try:
        value = datetime.fromisoformat(str(raw))
    except ValueError:
        problems.append(f"recorded_at {raw!r} is not a time")
        return UNREADABLE_TIME
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def tolerate_infinity(dbapi_connection: Any) -> None:
    """Load ``timestamptz`` ±infinity as :data:`INFINITE` on this psycopg
    connection (psycopg refuses it, failing the whole fetch)."""
    from psycopg.types.datetime import TimestamptzLoader

    class Loader(TimestamptzLoader):
        def load(self, data: Any) -> datetime:
            if bytes(data) in (b"infinity", b"-infinity"):
                return INFINITE
            return super().load(data)

    dbapi_connection.adapters.register_loader("timestamptz", Loader)
