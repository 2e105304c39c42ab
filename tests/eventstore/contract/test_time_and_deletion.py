"""position_at (time -> position) and the one deletion the log allows."""

from __future__ import annotations

from datetime import datetime, timedelta

import anyio
import pytest

from eventstore import (
    DEFAULT_CODEC,
    NO_STREAM,
    DuplicateEventError,
    EventStore,
    InvalidEventError,
    MetricsRolledUp,
    StoredEvent,
)
from tests.eventstore.contract.factories import checks, registered, sampled

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"
M = "metrics/a"


async def test_position_at_finds_the_last_event_recorded_by_then(store: EventStore) -> None:
    before = await store.now() - timedelta(seconds=1)
    await store.append(HUB, A, [registered(), *checks(2)])
    await anyio.sleep(0.02)
    middle = await store.now()
    await anyio.sleep(0.02)
    await store.append(HUB, A, checks(2))

    assert await store.position_at(HUB, before) == 0
    assert await store.position_at(HUB, middle) == 3
    assert await store.position_at(HUB, await store.now()) == 5
    assert await store.position_at("no-such-hub", middle) == 0


async def test_an_append_after_the_clock_went_back_is_recorded_no_earlier_than_the_last_event(
    store: EventStore,
) -> None:
    # The hub's last event is an hour ahead of this backend's clock: what a
    # writer sees after its clock (or a server's) stepped back an hour.  A
    # server's clock cannot be set from a test; a log holding an event
    # recorded ahead of it (imported, as a copy from a log whose clock ran
    # ahead) puts every backend's append in the same place.
    ahead = await store.now() + timedelta(hours=1)
    encoded = DEFAULT_CODEC.encode(registered())
    record = StoredEvent(
        hub_id=HUB, stream=A, version=1, position=1, event_id=encoded.event_id,
        type=encoded.type, schema_version=encoded.schema_version, data=encoded.data,
        recorded_at=ahead,
    )  # fmt: skip
    assert await store.import_events(HUB, [record]) == 1

    await store.append(HUB, A, checks(2))  # a batch
    await store.append(HUB, M, [sampled()], expected_version=NO_STREAM)
    await store.append(HUB, A, checks(1))

    log = [e async for e in store.read_log(HUB)]
    assert [(e.position, e.recorded_at) for e in log] == [(p, ahead) for p in range(1, 6)]
    assert await store.position_at(HUB, ahead) == 5
    assert await store.position_at(HUB, ahead - timedelta(microseconds=1)) == 0
    assert await store.position_at(HUB, await store.now()) == 0  # the clock is still behind


async def test_position_at_refuses_a_naive_time(store: EventStore) -> None:
    with pytest.raises(InvalidEventError, match="timezone-aware"):
        await store.position_at(HUB, datetime(2026, 1, 1))


async def test_deleting_samples_keeps_rollups_versions_and_positions(store: EventStore) -> None:
    await store.append(HUB, M, [sampled(i) for i in range(4)])
    rollup = MetricsRolledUp(resolution_s=60, through_version=3, buckets=())
    await store.append(HUB, M, [rollup, sampled(9)])

    removed = await store.delete_metric_samples(HUB, M, through_version=5)

    assert removed == 4  # versions 1-4; the rollup (5) is not a sample, 6 is past the bound
    left = [(e.version, e.position, e.type) async for e in store.read_stream(HUB, M)]
    assert left == [(5, 5, "MetricsRolledUp"), (6, 6, "MetricsSampled")]
    assert [e.position async for e in store.read_log(HUB)] == [5, 6]
    assert await store.stream_version(HUB, M) == 6
    assert await store.head(HUB) == 6
    # versions and positions are never reused
    assert (await store.append(HUB, M, [sampled()])).positions == range(7, 8)
    assert (await store.stream_version(HUB, M)) == 7


async def test_only_metric_streams_lose_events(store: EventStore) -> None:
    await store.append(HUB, A, [registered()])

    with pytest.raises(InvalidEventError, match="only metric samples"):
        await store.delete_metric_samples(HUB, A, through_version=1)

    assert await store.head(HUB) == 1


async def test_deleting_from_a_missing_stream_removes_nothing(store: EventStore) -> None:
    assert await store.delete_metric_samples(HUB, M, through_version=10) == 0


# An event id stays known after retention deleted its sample: appending it
# again is an idempotent retry of the original append, on every backend.


async def log_of(store: EventStore) -> list[tuple[int, int, str]]:
    return [(e.position, e.version, e.type) async for e in store.read_log(HUB)]


async def test_re_appending_a_deleted_sample_batch_answers_as_a_retry_and_writes_nothing(
    store: EventStore,
) -> None:
    await store.append(HUB, A, [registered()])
    batch = [sampled(i) for i in range(3)]
    original = await store.append(HUB, M, batch, expected_version=NO_STREAM)
    rollup = MetricsRolledUp(resolution_s=60, through_version=3, buckets=())
    await store.append(HUB, M, [rollup])
    assert await store.delete_metric_samples(HUB, M, through_version=3) == 3
    log = await log_of(store)

    for expected in (NO_STREAM, 0, None):
        kwargs = {} if expected is None else {"expected_version": expected}
        again = await store.append(HUB, M, batch, **kwargs)
        assert (again.version, list(again.positions)) == (3, [2, 3, 4])
        assert again == original
    # a retry of part of the batch answers for that part, as before deletion
    part = await store.append(HUB, M, batch[1:])
    assert (part.version, list(part.positions)) == (3, [3, 4])

    assert await log_of(store) == log == [(1, 1, "InstanceRegistered"), (5, 4, "MetricsRolledUp")]
    assert await store.head(HUB) == 5
    assert await store.stream_version(HUB, M) == 4
    assert (await store.append(HUB, M, [sampled()])).positions == range(6, 7)


async def test_a_retry_whose_batch_is_partly_deleted_answers_with_the_original_positions(
    store: EventStore,
) -> None:
    batch = [sampled(i) for i in range(4)]
    original = await store.append(HUB, M, batch)
    assert await store.delete_metric_samples(HUB, M, through_version=2) == 2

    assert await store.append(HUB, M, batch) == original
    assert [e.version async for e in store.read_stream(HUB, M)] == [3, 4]
    assert await store.head(HUB) == 4


async def test_a_deleted_sample_id_in_another_batch_is_refused_as_a_duplicate(
    store: EventStore,
) -> None:
    batch = [sampled(i) for i in range(2)]
    await store.append(HUB, M, batch)
    assert await store.delete_metric_samples(HUB, M, through_version=2) == 2

    with pytest.raises(DuplicateEventError, match="mixes 1 event id"):
        await store.append(HUB, M, [batch[0], sampled()])  # with a new one
    with pytest.raises(DuplicateEventError, match="as a different batch"):
        await store.append(HUB, "metrics/b", batch)  # to another stream
    with pytest.raises(DuplicateEventError, match="as a different batch"):
        await store.append(HUB, M, batch[::-1])  # in another order

    assert await log_of(store) == []
    assert await store.head(HUB) == 2
    assert await store.stream_version(HUB, "metrics/b") == 0
