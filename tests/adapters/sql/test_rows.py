"""Event rows to stored events (adapters/sql/rows.py): field by field, and
through the store's fallbacks for a page the fast read could not load — a
damaged row read row by row, and on PostgreSQL a page the driver refused
read again with its infinite times as NULL (statements.robust_page)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from adapters import open_store
from adapters.sql import SQLEventStore
from adapters.sql.rows import INFINITE, page, readable_time, stored
from adapters.sql.settings import SQLSettings
from eventstore import CorruptEvent, EventStore, RecordedEvent
from eventstore.envelope import UNREADABLE_ID, UNREADABLE_TIME, StoredEvent
from tests import services
from tests.backends import Backend
from tests.eventstore.contract.factories import checks, registered

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"
EVENT_ID = UUID("0b5f6a54-7d1c-4c55-9a43-2f3c0e8d1a77")
AT = datetime(2026, 11, 1, 12, 30, 15, 250000, tzinfo=UTC)


def row(**changes: Any) -> tuple[Any, ...]:
    """A row as SQLite hands it back: the id as hex text, the time as naive UTC text."""
    values = {
        "hub_id": "hub-a",
        "stream": "instance/b",
        "version": 7,
        "position": 42,
        "event_id": EVENT_ID.hex,
        "type": "HealthChecked",
        "schema_version": 2,
        "data": b"payload",
        "recorded_at": "2026-11-01 12:30:15.250000",
        "correlation_id": "corr-1",
        "causation_id": "cause-1",
    } | changes
    return tuple(values.values())


def test_a_row_becomes_a_stored_event_field_by_field() -> None:
    assert stored(row()) == StoredEvent(
        hub_id="hub-a",
        stream="instance/b",
        version=7,
        position=42,
        event_id=EVENT_ID,
        type="HealthChecked",
        schema_version=2,
        data=b"payload",
        recorded_at=AT,
        correlation_id="corr-1",
        causation_id="cause-1",
        envelope_error=None,
    )


def test_a_row_of_postgresql_values_becomes_the_same_stored_event() -> None:
    """A uuid, an aware time in another zone, and a memoryview payload."""
    aware = AT.astimezone(datetime.fromisoformat("2026-01-01T00:00:00+05:30").tzinfo)
    event = stored(row(event_id=EVENT_ID, recorded_at=aware, data=memoryview(b"payload")))

    assert event == stored(row())
    assert event.recorded_at.tzinfo is UTC
    assert type(event.data) is bytes


def test_a_row_without_a_payload_reads_as_an_empty_one() -> None:
    event = stored(row(data=None))

    assert event.data == b""
    assert event.envelope_error is None


def test_every_problem_of_a_row_is_named_in_its_envelope_error() -> None:
    event = stored(row(event_id="not-a-uuid", recorded_at="yesterday-ish"))

    assert event.envelope_error == (
        "unreadable row at position 42 of hub 'hub-a': event_id 'not-a-uuid' is not a UUID; "
        "recorded_at 'yesterday-ish' is not a time"
    )
    assert (event.event_id, event.recorded_at) == (UNREADABLE_ID, UNREADABLE_TIME)
    assert (event.hub_id, event.stream, event.version, event.position) == (
        "hub-a",
        "instance/b",
        7,
        42,
    )
    assert (event.correlation_id, event.causation_id) == ("corr-1", "cause-1")


def test_the_robust_pages_null_time_is_named_infinite() -> None:
    event = stored(row(recorded_at=None))

    assert (
        event.envelope_error
        == "unreadable row at position 42 of hub 'hub-a': recorded_at is infinite or outside years 1-9999"
    )
    assert event.recorded_at == UNREADABLE_TIME


IN_KOLKATA = timezone(timedelta(hours=5, minutes=30))


def test_a_naive_stored_time_is_utc_whatever_the_local_zone(away_from_utc: None) -> None:
    for raw in ("2026-11-01 12:30:15.250000", AT.replace(tzinfo=None)):
        event = stored(row(recorded_at=raw))

        assert event.recorded_at == AT
        assert event.recorded_at.tzinfo is UTC
        assert readable_time(raw) == AT


def test_an_aware_stored_time_is_converted_to_utc(away_from_utc: None) -> None:
    for raw in ("2026-11-01T18:00:15.250000+05:30", AT.astimezone(IN_KOLKATA)):
        event = stored(row(recorded_at=raw))

        assert event.recorded_at == AT
        assert event.recorded_at.tzinfo is UTC
        assert event.recorded_at.hour == 12


@pytest.mark.parametrize("raw", [None, INFINITE, "yesterday-ish"])
def test_an_unreadable_stored_time_reads_as_none(raw: object) -> None:
    assert readable_time(raw) is None


# --- the fast page ---------------------------------------------------------------


def test_a_fast_page_of_sqlite_rows_is_the_row_by_row_one(away_from_utc: None) -> None:
    rows = [
        row(),
        row(position=43, version=8, recorded_at="2026-11-01T18:00:15.250000+05:30"),
        row(position=44, version=9, recorded_at="2026-11-01 12:31:00"),
    ]

    events = page(rows)

    assert events == [stored(r) for r in rows]
    assert [e.recorded_at for e in events] == [AT, AT, datetime(2026, 11, 1, 12, 31, tzinfo=UTC)]
    assert all(e.recorded_at.tzinfo is UTC for e in events)


def test_a_fast_page_of_postgresql_rows_is_the_row_by_row_one(away_from_utc: None) -> None:
    rows = [
        row(event_id=EVENT_ID, recorded_at=AT.astimezone(IN_KOLKATA)),
        row(event_id=EVENT_ID, position=43, recorded_at=AT.replace(tzinfo=None)),
    ]

    events = page(rows)

    assert events == [stored(row()), stored(row(position=43))]
    assert all(e.recorded_at.tzinfo is UTC and e.recorded_at == AT for e in events)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"recorded_at": INFINITE}, ValueError, "recorded_at is infinite or outside years 1-9999"),
        ({"recorded_at": ""}, ValueError, "Invalid isoformat string: ''"),
        ({"data": memoryview(b"payload")}, TypeError, "data is a memoryview"),
        ({"event_id": "not-a-uuid"}, ValueError, "badly formed hexadecimal UUID string"),
    ],
    ids=["infinite time", "empty time", "payload not bytes", "id not a uuid"],
)
@pytest.mark.parametrize("first", [True, False], ids=["first row", "second row"])
def test_a_fast_page_stops_at_the_first_value_that_is_off(
    changes: dict[str, Any], error: type[Exception], message: str, first: bool
) -> None:
    # The caller (store._select_events) then reads the page row by row.
    off = row(position=43, **changes)
    with pytest.raises(error) as raised:
        page([off, row()] if first else [row(), off])

    assert str(raised.value) == message


@pytest.mark.external_service
async def test_hublogs_postgresql_engine_loads_either_infinity_as_the_marker() -> None:
    # Without the loader psycopg refuses the value and the whole page is read
    # again through the slower robust statement.
    with services.postgres_schema() as url:
        async with open_store(url) as store:
            assert isinstance(store, SQLEventStore)
            with store.engine.connect() as conn:
                values = conn.exec_driver_sql(
                    "SELECT 'infinity'::timestamptz, '-infinity'::timestamptz, "
                    "'2026-11-01 12:30:15.25+00'::timestamptz"
                ).one()

    assert tuple(values) == (INFINITE, INFINITE, AT)


# --- through the store ------------------------------------------------------------

DAMAGE = {
    "sqlite": (
        "UPDATE hublog_events SET event_id = 'not-a-uuid' WHERE position = 2",
        "event_id 'not-a-uuid' is not a UUID",
    ),
    "postgresql": (
        "UPDATE hublog_events SET recorded_at = 'infinity' WHERE position = 2",
        "recorded_at is infinite or outside years 1-9999",
    ),
}


def envelope(event: RecordedEvent) -> tuple[Any, ...]:
    return (
        event.hub_id,
        event.stream,
        event.version,
        event.position,
        event.event_id,
        event.type,
        event.schema_version,
        event.recorded_at,
        event.correlation_id,
        event.causation_id,
    )


async def three_with_ids(store: EventStore) -> list[RecordedEvent]:
    await store.append(
        HUB, A, [registered(), *checks(2)], correlation_id="corr-1", causation_id="cause-1"
    )
    return [e async for e in store.read_log(HUB)]


def damage(store: EventStore, sql: str) -> None:
    assert isinstance(store, SQLEventStore)
    with store.engine.begin() as conn:
        conn.exec_driver_sql(sql)


async def test_the_sound_rows_of_a_damaged_page_read_exactly_as_before(
    store: EventStore, backend: Backend
) -> None:
    before = await three_with_ids(store)
    sql, problem = DAMAGE[backend.kind]
    damage(store, sql)

    after = [e async for e in store.read_log(HUB)]

    assert [envelope(e) for e in (after[0], after[2])] == [
        envelope(e) for e in (before[0], before[2])
    ]
    assert [after[0].event, after[2].event] == [before[0].event, before[2].event]
    corrupt = after[1]
    assert isinstance(corrupt.event, CorruptEvent)
    assert corrupt.event.error == f"unreadable row at position 2 of hub {HUB!r}: {problem}"
    assert (corrupt.hub_id, corrupt.stream, corrupt.version, corrupt.position) == (HUB, A, 2, 2)
    assert (corrupt.correlation_id, corrupt.causation_id) == ("corr-1", "cause-1")


@pytest.fixture
def bare_engine() -> Iterator[sa.Engine]:
    """A PostgreSQL engine made by the caller, not by hublog: psycopg's own
    loaders, which refuse an infinite ``timestamptz`` and so fail the whole
    fetch."""
    with services.postgres_schema() as url:
        engine = sa.create_engine(SQLSettings.from_url(url).sqlalchemy_url())
        yield engine
        engine.dispose()


@pytest.mark.external_service
@pytest.mark.parametrize("infinity", ["infinity", "-infinity"])
async def test_a_page_the_driver_refuses_is_read_again_with_its_infinite_time_corrupt(
    bare_engine: sa.Engine, infinity: str
) -> None:
    async with SQLEventStore(bare_engine) as store:
        before = await three_with_ids(store)
        damage(store, f"UPDATE hublog_events SET recorded_at = '{infinity}' WHERE position = 2")

        log = [e async for e in store.read_log(HUB)]
        stream = [e async for e in store.read_stream(HUB, A)]

    for events in (log, stream):
        assert [envelope(e) for e in (events[0], events[2])] == [
            envelope(e) for e in (before[0], before[2])
        ]
        corrupt = events[1]
        assert isinstance(corrupt.event, CorruptEvent)
        assert corrupt.event.error == (
            f"unreadable row at position 2 of hub {HUB!r}: recorded_at is infinite or outside years 1-9999"
        )
        assert corrupt.recorded_at == UNREADABLE_TIME
        assert (corrupt.event_id, corrupt.version) == (before[1].event_id, 2)


@pytest.mark.external_service
@pytest.mark.parametrize("when", ["20000-01-01 00:00:00+00", "0044-03-15 00:00:00+00 BC"])
async def test_a_time_no_python_datetime_holds_reads_as_one_corrupt_event(when: str) -> None:
    # hublog's own engine loads ±infinity, but psycopg still refuses years
    # past 9999 or before 1, which failed the whole hub's read.
    with services.postgres_schema() as url:
        async with open_store(url) as store:
            assert isinstance(store, SQLEventStore)
            before = await three_with_ids(store)
            damage(store, f"UPDATE hublog_events SET recorded_at = '{when}' WHERE position = 2")

            log = [e async for e in store.read_log(HUB)]

    assert [envelope(e) for e in (log[0], log[2])] == [envelope(e) for e in (before[0], before[2])]
    assert isinstance(log[1].event, CorruptEvent)
    assert log[1].event.error == (
        f"unreadable row at position 2 of hub {HUB!r}: recorded_at is infinite or outside years 1-9999"
    )
