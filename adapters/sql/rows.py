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

Pages are read fast first (:func:`page`: one tight loop, no checks per
value, the time parsed once per run of equal values — a batch shares one);
only a page where that fails is read again row by row through :func:`stored`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from eventstore.envelope import UNREADABLE_ID, UNREADABLE_TIME, StoredEvent

INFINITE = datetime.max.replace(tzinfo=UTC)
"""What a PostgreSQL ``timestamptz`` of ±infinity is loaded as."""


def page(rows: Sequence[Any]) -> list[StoredEvent]:
    """The stored events of a page of sound rows.

    Raises: ValueError, TypeError or AttributeError at the first value that is
    off (the caller reads that page again with :func:`stored`).
    """
    result = []
    last_raw: object = None
    last_at: datetime = UNREADABLE_TIME
    for (hub_id, stream, version, position, raw_id, type_, schema_version, data, raw_at,
         correlation, causation) in rows:  # fmt: skip
        if raw_at != last_raw:
            last_at, last_raw = _fast_time(raw_at), raw_at
        event_id = raw_id if type(raw_id) is UUID else UUID(raw_id)
        if type(data) is not bytes:
            raise TypeError(f"data is a {type(data).__name__}")
        result.append(StoredEvent(
            hub_id, stream, version, position, event_id, type_, schema_version, last_at,
            correlation, causation, data=data,
        ))  # fmt: skip
    return result


def _fast_time(raw: Any) -> datetime:
    if type(raw) is str:
        value = datetime.fromisoformat(raw)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if raw == INFINITE:
        raise ValueError("recorded_at is infinite or outside years 1-9999")
    return raw.astimezone(UTC) if raw.tzinfo else raw.replace(tzinfo=UTC)


def stored(row: sa.Row[Any] | tuple[Any, ...]) -> StoredEvent:
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
    if raw is None:  # the robust page's infinite time (statements.robust_page)
        problems.append("recorded_at is infinite or outside years 1-9999")
        return UNREADABLE_TIME
    if isinstance(raw, datetime):
        if raw == INFINITE:
            problems.append("recorded_at is infinite or outside years 1-9999")
            return UNREADABLE_TIME
        return raw.astimezone(UTC) if raw.tzinfo else raw.replace(tzinfo=UTC)
    try:
        value = datetime.fromisoformat(str(raw))
    except ValueError:
        problems.append(f"recorded_at {raw!r} is not a time")
        return UNREADABLE_TIME
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def readable_time(raw: object) -> datetime | None:
    """A stored ``recorded_at`` as UTC, or None for one that is missing or damaged."""
    problems: list[str] = []
    value = _time(raw, problems)
    return None if problems else value


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
