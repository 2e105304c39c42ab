"""``recorded_at`` read through the schema's UTCDateTime: the instant that
was written, in UTC, whatever this process's local zone (SQLite hands back
naive UTC text) and whatever the PostgreSQL session's zone (``timestamptz``
comes back in it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sql import SQLEventStore
from adapters.sql.schema import UTCDateTime, events
from eventstore.envelope import StoredEvent

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"
T = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def stored_at(position: int, at: datetime) -> StoredEvent:
    return StoredEvent(
        hub_id=HUB,
        stream=A,
        version=position,
        position=position,
        event_id=uuid4(),
        type="HealthChecked",
        schema_version=1,
        data=b"{}",
        recorded_at=at,
    )


async def test_a_time_read_back_is_the_instant_written_in_utc(zoned_url: str) -> None:
    async with SQLEventStore(zoned_url, auto_migrate=True) as store:
        await store.import_events(HUB, [stored_at(1, T)])
        with store.engine.connect() as conn:
            value = conn.scalar(sa.select(events.c.recorded_at))

    assert value == T
    assert value.tzinfo is UTC


async def test_an_import_at_the_time_of_the_hubs_last_event_continues_its_log(
    zoned_url: str,
) -> None:
    """The import compares with the last recorded_at as read back: shifted
    by a zone, an event at the same time would look earlier (refused), or
    an earlier one later."""
    async with SQLEventStore(zoned_url, auto_migrate=True) as store:
        assert await store.import_events(HUB, [stored_at(1, T)]) == 1
        assert await store.import_events(HUB, [stored_at(2, T)]) == 1
        assert [e.recorded_at async for e in store.read_log(HUB)] == [T, T]


async def test_an_imported_time_is_stored_as_the_instant_given_in_any_zone(
    zoned_url: str,
) -> None:
    """Bound through UTCDateTime (the import's Core insert) and read back
    by the page read's driver SQL, which knows nothing of zones."""
    elsewhere = T.astimezone(timezone(timedelta(hours=-8)))
    async with SQLEventStore(zoned_url, auto_migrate=True) as store:
        await store.import_events(HUB, [stored_at(1, elsewhere)])
        assert [e.recorded_at async for e in store.read_log(HUB)] == [T]
        assert await store.position_at(HUB, T) == 1
        assert await store.position_at(HUB, T - timedelta(microseconds=1)) == 0


def test_binding_a_naive_time_is_refused_with_the_value_named() -> None:
    naive = datetime(2026, 11, 1, 12, 0)
    with pytest.raises(ValueError) as caught:
        UTCDateTime().process_bind_param(naive, sqlite.dialect())

    assert str(caught.value) == (
        "naive datetime datetime.datetime(2026, 11, 1, 12, 0): "
        "hublog stores timezone-aware UTC only"
    )


@pytest.mark.parametrize(
    ("dialect", "bound"),
    [
        (sqlite.dialect(), datetime(2026, 11, 1, 12, 0)),  # naive UTC: SQLite has no zones
        (postgresql.dialect(), T),
    ],
    ids=["sqlite", "postgresql"],
)
def test_a_time_is_bound_as_utc_naive_for_sqlite_and_aware_for_postgresql(
    dialect: sa.Dialect, bound: datetime
) -> None:
    value = UTCDateTime().process_bind_param(T.astimezone(timezone(timedelta(hours=3))), dialect)

    assert value == bound
    assert value is not None
    assert value.tzinfo is bound.tzinfo
