"""import_events: a copied log kept exactly as recorded, continued, never contradicted.

The rule is ``eventstore/importing.py`` (the Redis script mirrors it); every
case here runs on every backend.  Conflict messages are spelled out in full:
``hublog import`` shows them to the operator, so they are part of the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

import anyio
import msgspec
import pytest

from eventstore import (
    DEFAULT_CODEC,
    NO_STREAM,
    AppendResult,
    Codec,
    DuplicateEventError,
    Event,
    EventStore,
    InvalidEventError,
    MetricsRolledUp,
    RecordedEvent,
    StoredEvent,
    UnknownEvent,
    WrongExpectedVersion,
)
from tests.eventstore.contract.factories import checked, registered, sampled

pytestmark = pytest.mark.anyio

HUB = "import-hub"
OTHER = "other-hub"
A = "instance/a"
B = "instance/b"
M = "metrics/a"
STREAMS = (A, B, M)
T = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)  # well before any backend's clock now
SECOND = timedelta(seconds=1)
MICRO = timedelta(microseconds=1)


def record(
    event: Event,
    position: int,
    version: int,
    stream: str = A,
    *,
    at: datetime = T,
    hub: str = HUB,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> StoredEvent:
    """``event`` as another log recorded it, at this place."""
    encoded = DEFAULT_CODEC.encode(event)
    return StoredEvent(
        hub_id=hub,
        stream=stream,
        version=version,
        position=position,
        event_id=encoded.event_id,
        type=encoded.type,
        schema_version=encoded.schema_version,
        data=encoded.data,
        recorded_at=at,
        correlation_id=correlation_id,
        causation_id=causation_id,
    )


def moved(event: StoredEvent, **changes: Any) -> StoredEvent:
    return msgspec.structs.replace(event, **changes)


Envelope = tuple[str, str, int, int, Any, str, int, datetime, str | None, str | None]


def envelope(e: StoredEvent | RecordedEvent) -> Envelope:
    return (
        e.hub_id,
        e.stream,
        e.version,
        e.position,
        e.event_id,
        e.type,
        e.schema_version,
        e.recorded_at,
        e.correlation_id,
        e.causation_id,
    )


async def log_of(store: EventStore, hub: str = HUB) -> list[Envelope]:
    return [envelope(e) async for e in store.read_log(hub)]


async def state_of(store: EventStore, hub: str = HUB) -> tuple[Any, ...]:
    """Everything an import could change: the log, the head, the stream versions."""
    versions = [await store.stream_version(hub, s) for s in STREAMS]
    return await log_of(store, hub), await store.head(hub), versions


def conflict(event: StoredEvent, why: str) -> str:
    """The message of ``DuplicateEventError`` for an import conflict at ``event``."""
    return (
        f"Import conflict: {event.type} {event.event_id} at position {event.position} "
        f"(stream {event.stream!r}, version {event.version}) of hub {event.hub_id!r}: "
        f"{why}; the logs disagree, nothing of this batch was written"
    )


async def refused(store: EventStore, batch: list[StoredEvent], message: str) -> None:
    """Importing ``batch`` raises an import conflict with ``message`` and changes nothing."""
    before = await state_of(store)
    with pytest.raises(DuplicateEventError) as caught:
        await store.import_events(HUB, batch)
    assert str(caught.value) == message
    assert await state_of(store) == before


# --- kept exactly as recorded ------------------------------------------------------


def copied_log() -> tuple[list[Event], list[StoredEvent]]:
    """A piece of another hub's log: two streams and a hole at position 4 (a
    sample its retention removed), two events sharing a time."""
    events: list[Event] = [registered(), sampled(1), checked(), sampled(3)]
    records = [
        record(events[0], 1, 1, A, at=T),
        record(events[1], 2, 1, M, at=T),
        record(events[2], 3, 2, A, at=T + SECOND, correlation_id="corr-7", causation_id="cause-9"),
        record(events[3], 5, 3, M, at=T + 2 * SECOND),
    ]
    return events, records


async def test_imported_events_read_back_exactly_as_recorded(store: EventStore) -> None:
    events, records = copied_log()

    assert await store.import_events(HUB, records) == 4

    log = [e async for e in store.read_log(HUB)]
    assert [envelope(e) for e in log] == [envelope(r) for r in records]
    assert [e.event for e in log] == events
    assert all(e.recorded_at.utcoffset() == timedelta(0) for e in log)
    in_a = [(e.version, e.position, e.event_id) async for e in store.read_stream(HUB, A)]
    assert in_a == [(1, 1, records[0].event_id), (2, 3, records[2].event_id)]
    in_m = [(e.version, e.position, e.event_id) async for e in store.read_stream(HUB, M)]
    assert in_m == [(1, 2, records[1].event_id), (3, 5, records[3].event_id)]
    assert [await store.stream_version(HUB, s) for s in STREAMS] == [2, 0, 3]
    assert await store.head(HUB) == 5
    assert await store.hubs() == [HUB]
    assert await store.position_at(HUB, T - MICRO) == 0
    assert await store.position_at(HUB, T) == 2
    assert await store.position_at(HUB, T + SECOND - MICRO) == 2
    assert await store.position_at(HUB, T + SECOND) == 3
    assert await store.position_at(HUB, T + 2 * SECOND - MICRO) == 3
    assert await store.position_at(HUB, T + 2 * SECOND) == 5


async def test_imported_payloads_are_kept_byte_for_byte(store: EventStore) -> None:
    _, records = copied_log()
    await store.import_events(HUB, records)
    store.codec = Codec(types=())  # knows no type: every event reads back as its stored bytes

    log = [e async for e in store.read_log(HUB)]

    raw = [e.event for e in log if isinstance(e.event, UnknownEvent)]
    assert [(u.type, u.schema_version, u.payload) for u in raw] == [
        (r.type, r.schema_version, r.data) for r in records
    ]


async def test_an_imported_time_in_another_zone_reads_back_as_the_same_instant_in_utc(
    store: EventStore,
) -> None:
    at = datetime(2024, 5, 1, 14, 0, 0, 250, tzinfo=timezone(timedelta(hours=2)))

    assert await store.import_events(HUB, [record(registered(), 1, 1, at=at)]) == 1

    [event] = [e async for e in store.read_log(HUB)]
    assert event.recorded_at == at
    assert event.recorded_at.utcoffset() == timedelta(0)
    assert str(event.recorded_at) == "2024-05-01 12:00:00.000250+00:00"


# --- the log goes on from the import -----------------------------------------------


async def test_an_append_after_an_import_continues_at_the_head_and_stream_versions(
    store: EventStore,
) -> None:
    _, records = copied_log()
    await store.import_events(HUB, records)

    with pytest.raises(WrongExpectedVersion) as caught:
        await store.append(HUB, A, [checked()], expected_version=NO_STREAM)
    assert (caught.value.stream, caught.value.actual) == (A, 2)
    with pytest.raises(WrongExpectedVersion) as caught:
        await store.append(HUB, M, [sampled()], expected_version=2)
    assert (caught.value.stream, caught.value.actual) == (M, 3)

    after = await store.append(HUB, A, [checked()], expected_version=2)
    assert after == AppendResult(version=3, first_position=6, last_position=6)
    assert await store.append(HUB, M, [sampled()], expected_version=3) == AppendResult(4, 7, 7)
    assert await store.append(HUB, B, [registered()], expected_version=NO_STREAM) == (
        AppendResult(1, 8, 8)
    )
    assert await store.head(HUB) == 8
    [appended] = [e async for e in store.read_log(HUB, after=5, limit=1)]
    assert appended.recorded_at >= T + 2 * SECOND  # never before the imported last event


async def test_an_imported_event_id_is_known_to_append(store: EventStore) -> None:
    first, second = registered(), checked()
    await store.import_events(HUB, [record(first, 1, 1), record(second, 2, 2)])

    # the same batch appended again is a retry: the imported places, nothing written
    assert await store.append(HUB, A, [first, second]) == AppendResult(2, 1, 2)
    assert await store.append(HUB, A, [second], expected_version=0) == AppendResult(2, 2, 2)
    with pytest.raises(DuplicateEventError) as caught:
        await store.append(HUB, A, [first, checked()])
    assert str(caught.value) == (
        f"batch for hub {HUB!r}, stream {A!r} mixes 1 event id(s) already written with "
        "1 new one(s); append the new ones as their own batch"
    )
    with pytest.raises(DuplicateEventError) as caught:
        await store.append(HUB, B, [first])
    assert str(caught.value) == (
        f"event ids of this batch were already written to hub {HUB!r} as a different batch "
        f"(stream {A!r}, version 1), not to {B!r}"
    )

    assert [e.event_id for e in [e async for e in store.read_log(HUB)]] == [
        first.event_id,
        second.event_id,
    ]
    assert (await store.head(HUB), await store.stream_version(HUB, A)) == (2, 2)


async def test_a_subscriber_waiting_at_the_head_gets_the_imported_events(
    store: EventStore,
) -> None:
    _, records = copied_log()
    seen: list[int] = []

    async def follow() -> None:
        async with aclosing(store.subscribe(HUB)) as events:
            async for event in events:
                seen.append(event.position)
                if len(seen) == len(records):
                    return

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow)
            await anyio.wait_all_tasks_blocked()
            await store.import_events(HUB, records)

    assert seen == [1, 2, 3, 5]


# --- idempotent ------------------------------------------------------------------


async def test_importing_the_same_batch_again_writes_nothing(store: EventStore) -> None:
    _, records = copied_log()
    assert await store.import_events(HUB, records) == 4
    before = await state_of(store)

    assert await store.import_events(HUB, records) == 0
    assert await store.import_events(HUB, records[1:3]) == 0

    assert await state_of(store) == before


async def test_a_batch_overlapping_the_log_writes_only_the_new_events(store: EventStore) -> None:
    _, records = copied_log()
    assert await store.import_events(HUB, records[:2]) == 2

    assert await store.import_events(HUB, records) == 2

    assert await log_of(store) == [envelope(r) for r in records]
    assert (await store.head(HUB), await store.stream_version(HUB, M)) == (5, 3)


# --- conflicts: the logs disagree, nothing of the batch is written -----------------


async def two_events(store: EventStore) -> list[StoredEvent]:
    """The receiving log: positions 1 and 2 of stream A, recorded at T and T+2s."""
    log = [record(registered(), 1, 1, at=T), record(checked(), 2, 2, at=T + 2 * SECOND)]
    assert await store.import_events(HUB, log) == 2
    return log


async def test_an_event_id_the_log_has_at_another_place_is_an_import_conflict(
    store: EventStore,
) -> None:
    log = await two_events(store)
    new = record(checked(), 3, 3, at=T + 3 * SECOND)
    at_1 = f"the log has this event id at position 1 (stream {A!r}, version 1)"
    at_2 = f"the log has this event id at position 2 (stream {A!r}, version 2)"

    # another position (after a new event of the batch), version, stream
    stray = moved(log[0], position=4)
    await refused(store, [new, stray], conflict(stray, at_1))
    stray = moved(log[1], version=5)
    await refused(store, [stray, new], conflict(stray, at_2))
    stray = moved(log[1], stream=B)
    await refused(store, [stray, new], conflict(stray, at_2))


async def test_a_new_event_at_or_below_the_head_is_an_import_conflict(store: EventStore) -> None:
    await two_events(store)
    after = record(checked(), 3, 4, at=T + 3 * SECOND)

    for position in (2, 1):  # the head, and below it
        behind = record(checked(), position, 3, at=T + 3 * SECOND)
        await refused(
            store,
            [behind, after],
            conflict(behind, "the log already reaches position 2 without it"),
        )


async def test_a_version_not_above_the_streams_is_an_import_conflict(store: EventStore) -> None:
    await two_events(store)
    good = record(registered(), 3, 1, B, at=T + 3 * SECOND)

    for version in (2, 1):  # the stream's version, and below it
        bad = record(checked(), 4, version, A, at=T + 3 * SECOND)
        await refused(store, [good, bad], conflict(bad, f"stream {A!r} is already at version 2"))


async def test_a_version_the_batch_itself_reached_is_an_import_conflict(
    store: EventStore,
) -> None:
    await two_events(store)
    good = record(checked(), 3, 3, at=T + 3 * SECOND)
    bad = record(checked(), 4, 3, at=T + 3 * SECOND)

    await refused(store, [good, bad], conflict(bad, f"stream {A!r} is already at version 3"))


async def test_an_event_recorded_before_the_logs_last_event_is_an_import_conflict(
    store: EventStore,
) -> None:
    await two_events(store)  # recorded at T and T+2s
    bad = record(checked(), 3, 3, A, at=T + SECOND)  # after the first event, before the last
    later = record(registered(), 4, 1, B, at=T + 3 * SECOND)

    await refused(
        store,
        [bad, later],
        conflict(bad, "it was recorded before the log's last event (2024-05-01 12:00:02+00:00)"),
    )


async def test_an_event_recorded_before_the_batchs_previous_event_is_an_import_conflict(
    store: EventStore,
) -> None:
    await two_events(store)
    good = record(checked(), 3, 3, at=T + 3 * SECOND)
    bad = record(registered(), 4, 1, B, at=T + 3 * SECOND - MICRO)

    await refused(
        store,
        [good, bad],
        conflict(bad, "it was recorded before the log's last event (2024-05-01 12:00:03+00:00)"),
    )


async def test_an_event_recorded_at_the_time_of_the_logs_last_event_is_imported(
    store: EventStore,
) -> None:
    await two_events(store)
    same_time = record(checked(), 3, 3, at=T + 2 * SECOND)

    assert await store.import_events(HUB, [same_time]) == 1

    assert (await log_of(store))[-1] == envelope(same_time)
    assert await store.position_at(HUB, T + 2 * SECOND) == 3


async def test_positions_and_versions_may_skip_ahead_of_the_log(store: EventStore) -> None:
    # holes the source's retention left: a continuation, not a conflict
    await two_events(store)
    ahead = record(checked(), 7, 9, at=T + 3 * SECOND)

    assert await store.import_events(HUB, [ahead]) == 1

    assert (await store.head(HUB), await store.stream_version(HUB, A)) == (7, 9)
    assert await store.append(HUB, A, [checked()]) == AppendResult(10, 8, 8)


async def test_a_batch_that_repeats_an_event_id_is_refused(store: EventStore) -> None:
    first = record(registered(), 1, 1)
    again = moved(first, position=2, version=2)

    with pytest.raises(DuplicateEventError) as caught:
        await store.import_events(HUB, [first, again])

    assert str(caught.value) == (
        f"import batch for hub {HUB!r} repeats event id {first.event_id} (positions 1 and 2)"
    )
    assert await state_of(store) == ([], 0, [0, 0, 0])
    assert await store.hubs() == []


# --- samples that retention removed -------------------------------------------------


async def log_with_samples(store: EventStore) -> list[StoredEvent]:
    log = [
        record(registered(), 1, 1, A),
        record(sampled(1), 2, 1, M),
        record(sampled(2), 3, 2, M),
        record(checked(), 4, 2, A),
    ]
    assert await store.import_events(HUB, log) == 4
    return log


async def test_a_sample_at_or_below_the_head_with_an_unknown_id_is_skipped(
    store: EventStore,
) -> None:
    # a raw sample that retention here removed (and forgot): not brought back
    log = await log_with_samples(store)
    removed_here = record(sampled(9), 3, 2, M)
    new = record(checked(), 5, 3, A)

    assert await store.import_events(HUB, [removed_here, new]) == 1

    assert await log_of(store) == [envelope(e) for e in [*log, new]]
    assert (await store.head(HUB), await store.stream_version(HUB, M)) == (5, 2)


async def test_only_a_sample_of_a_metrics_stream_below_the_head_is_skipped(
    store: EventStore,
) -> None:
    await log_with_samples(store)
    new = record(checked(), 5, 3, A)

    not_a_sample_in_metrics = record(checked(), 3, 2, M)
    a_sample_outside_metrics = record(sampled(), 3, 2, A)
    for behind in (not_a_sample_in_metrics, a_sample_outside_metrics):
        await refused(
            store,
            [behind, new],
            conflict(behind, "the log already reaches position 4 without it"),
        )


async def test_a_sample_deleted_here_is_skipped_at_its_place_and_a_conflict_elsewhere(
    store: EventStore,
) -> None:
    samples = [record(sampled(i), i, i, M) for i in (1, 2)]
    rollup = record(MetricsRolledUp(resolution_s=60, through_version=2, buckets=()), 3, 3, M)
    assert await store.import_events(HUB, [*samples, rollup]) == 3
    assert await store.delete_metric_samples(HUB, M, through_version=2) == 2

    assert await store.import_events(HUB, [*samples, rollup]) == 0
    assert await log_of(store) == [envelope(rollup)]

    elsewhere = moved(samples[0], position=4, version=4)
    await refused(
        store,
        [elsewhere],
        conflict(elsewhere, f"the log has this event id at position 1 (stream {M!r}, version 1)"),
    )


# --- a batch that is not a piece of a log ------------------------------------------


class NoOffset(tzinfo):
    """A tzinfo whose utcoffset() is None: Python counts such a time as naive."""

    def utcoffset(self, dt: datetime | None) -> None:
        return None

    def tzname(self, dt: datetime | None) -> str:
        return "none"

    def dst(self, dt: datetime | None) -> None:
        return None


BAD_ITEMS: dict[str, Callable[[StoredEvent], tuple[Any, str]]] = {
    # what becomes of a good record at position 2, and the message it earns
    "not-a-record": lambda e: (
        DEFAULT_CODEC.encode(checked()),
        "import takes StoredEvent records, got NewEvent",
    ),
    "another-hub": lambda e: (
        moved(e, hub_id=OTHER),
        f"event {e.event_id} belongs to hub {OTHER!r}, not {HUB!r}",
    ),
    "unknown-category": lambda e: (
        moved(e, stream="gpu/a"),
        (
            "stream 'gpu/a' has unknown category 'gpu'; "
            "expected one of ('hub', 'instance', 'metrics', 'lock', 'queue')"
        ),
    ),
    "malformed-stream": lambda e: (
        moved(e, stream="instance"),
        "stream 'instance' is malformed: 'hub' stands alone, the others are '<category>/<id>'",
    ),
    "position-0": lambda e: (
        moved(e, position=0),
        f"event {e.event_id} has position 0, version 2: both must be >= 1",
    ),
    "version-0": lambda e: (
        moved(e, version=0),
        f"event {e.event_id} has position 2, version 0: both must be >= 1",
    ),
    "naive-time": lambda e: (
        moved(e, recorded_at=datetime(2024, 5, 1, 12, 0)),
        f"event {e.event_id} has a naive recorded_at",
    ),
    "a-tzinfo-without-an-offset": lambda e: (
        moved(e, recorded_at=datetime(2024, 5, 1, 12, 0, tzinfo=NoOffset())),
        f"event {e.event_id} has a naive recorded_at",
    ),
}


async def test_a_batch_that_is_not_a_piece_of_a_log_is_refused(store: EventStore) -> None:
    for name, make in BAD_ITEMS.items():
        bad, message = make(record(checked(), 2, 2))
        batch = [record(registered(), 1, 1), bad]  # the first item is fine

        with pytest.raises(InvalidEventError) as caught:
            await store.import_events(HUB, batch)

        assert (name, str(caught.value)) == (name, message)
    assert await state_of(store) == ([], 0, [0, 0, 0])
    assert await store.hubs() == []


async def test_a_batch_not_in_position_order_is_refused(store: EventStore) -> None:
    for first, second in [(2, 1), (2, 2)]:  # backwards, and a position repeated
        batch = [record(registered(), first, 1), record(checked(), second, 2)]

        with pytest.raises(InvalidEventError) as caught:
            await store.import_events(HUB, batch)

        assert str(caught.value) == (
            f"import batch for hub {HUB!r} is not in position order: {second} after {first}"
        )
    assert await state_of(store) == ([], 0, [0, 0, 0])


async def test_an_import_to_a_bad_hub_id_is_refused(store: EventStore) -> None:
    with pytest.raises(InvalidEventError) as caught:
        await store.import_events(" ", [record(registered(), 1, 1, hub=" ")])

    assert str(caught.value) == "hub_id must be non-empty without surrounding spaces: ' '"
    assert await store.hubs() == []


async def test_an_empty_batch_imports_nothing(store: EventStore) -> None:
    assert await store.import_events(HUB, []) == 0

    assert await store.hubs() == []
    assert await store.head(HUB) == 0


# --- hubs ------------------------------------------------------------------------


async def test_imports_into_two_hubs_stay_isolated(store: EventStore) -> None:
    here = [record(registered(), 1, 1, hub=HUB), record(checked(), 2, 2, hub=HUB)]
    there = [
        record(registered(), 1, 1, hub=OTHER, at=T + SECOND),
        record(checked(), 2, 2, hub=OTHER, at=T + SECOND),
        record(sampled(), 3, 1, M, hub=OTHER, at=T + SECOND),
    ]
    assert await store.import_events(HUB, here) == 2

    # OTHER's log starts at position 1 although HUB's head is 2
    assert await store.import_events(OTHER, there) == 3
    # the same event id in another hub is another event
    copy = moved(here[0], hub_id=OTHER, position=4, version=3, recorded_at=T + 2 * SECOND)
    assert await store.import_events(OTHER, [copy]) == 1

    assert await log_of(store, HUB) == [envelope(e) for e in here]
    assert await log_of(store, OTHER) == [envelope(e) for e in [*there, copy]]
    assert (await store.head(HUB), await store.head(OTHER)) == (2, 4)
    assert [await store.stream_version(HUB, s) for s in STREAMS] == [2, 0, 0]
    assert [await store.stream_version(OTHER, s) for s in STREAMS] == [3, 0, 1]
    assert await store.position_at(HUB, T + SECOND) == 2
    assert await store.position_at(OTHER, T) == 0
    assert await store.hubs() == [HUB, OTHER]
    assert await store.import_events(HUB, here) == 0
