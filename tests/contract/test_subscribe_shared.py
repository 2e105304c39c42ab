"""subscribe's shared front: several subscribers at once, outages, and the
answers every backend gives alike (a retry's refusal, a deletion of nothing).

The subscriber and deletion cases run on every backend through the contract
``store`` fixture; on the memory store an in-process wake-up is the only way
a waiting subscriber learns of an append, so two subscribers of one hub
waiting at once must both be woken by it.

The outage cases run on the memory store only (both async libraries): the
loop under test is the same on every backend, and a real server outage
(``tests/test_outages.py``) takes seconds of restarts.  The fault is injected
at hublog's own backend interface, not by mocking a server: ``FaultyStore``
below is the reference store whose ``_read_log_page`` / ``_wait_for_events``
raise ``BackendUnavailable`` on demand, as a backend does when it cannot
reach its server.

An outage ends when the log moves or a wait succeeds, not at any good
read: waits that keep failing between good reads back off and give up
after ``reconnect_timeout`` like failing reads do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import aclosing

import anyio
import anyio.lowlevel
import pytest

from adapters.memory import MemoryEventStore
from eventstore import (
    BackendUnavailable,
    DuplicateEventError,
    EventStore,
    StoredEvent,
    WrongExpectedVersion,
)
from tests.backends import BACKENDS
from tests.contract.factories import checked, checks, registered, sampled
from tests.deadlines import within

pytestmark = pytest.mark.anyio

HUB = "shared-hub"
OTHER = "other-hub"
A = "instance/a"
B = "instance/b"
M = "metrics/a"
NEVER = "metrics/never-written"

LIMIT = 10.0
"""Seconds for each case's subscriptions: an in-process wake-up takes milliseconds."""

MEMORY = [b for b in BACKENDS if b.kind == "memory"]
on_memory = pytest.mark.parametrize("backend", MEMORY, ids=[b.id for b in MEMORY])


async def follow(
    store: EventStore, hub_id: str, into: list[tuple[str, int]], n: int, after: int = 0
) -> None:
    """Subscribe to ``hub_id`` until ``n`` events are in ``into``."""
    async with aclosing(store.subscribe(hub_id, after=after)) as events:
        async for event in events:
            into.append((event.hub_id, event.position))
            if len(into) == n:
                return


async def until(condition: Callable[[], bool]) -> None:
    while not condition():
        await anyio.sleep(0.005)


async def settled() -> None:
    """Every subscriber armed its wake-up and waits (or is blocked on I/O)."""
    await anyio.wait_all_tasks_blocked()


# --- several subscribers at once ------------------------------------------------------


async def test_two_subscribers_of_one_hub_waiting_at_once_are_both_woken(
    store: EventStore,
) -> None:
    first: list[tuple[str, int]] = []
    second: list[tuple[str, int]] = []

    with within("two subscriptions of one hub", LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow, store, HUB, first, 3)
            tg.start_soon(follow, store, HUB, second, 3)
            await settled()  # both wait live on the empty hub
            await store.append(HUB, A, [registered()])
            await until(lambda: len(first) == len(second) == 1)
            await settled()  # both wait again, each on what it armed anew
            await store.append(HUB, A, checks(2))

    assert first == [(HUB, 1), (HUB, 2), (HUB, 3)]
    assert second == [(HUB, 1), (HUB, 2), (HUB, 3)]


async def test_three_subscribers_of_one_hub_from_different_positions_all_follow(
    store: EventStore,
) -> None:
    await store.append(HUB, A, checks(2))
    seen: dict[int, list[tuple[str, int]]] = {0: [], 1: [], 2: []}

    with within("three subscriptions of one hub", LIMIT):
        async with anyio.create_task_group() as tg:
            for after, into in seen.items():
                tg.start_soon(follow, store, HUB, into, 3 - after, after)
            await until(lambda: [len(v) for v in seen.values()] == [2, 1, 0])
            await settled()
            await store.append(HUB, A, [checked()])

    assert seen == {0: [(HUB, 1), (HUB, 2), (HUB, 3)], 1: [(HUB, 2), (HUB, 3)], 2: [(HUB, 3)]}


async def test_a_subscriber_that_ends_leaves_the_other_of_its_hub_woken(
    store: EventStore,
) -> None:
    short: list[tuple[str, int]] = []
    long: list[tuple[str, int]] = []

    with within("a short and a long subscription of one hub", LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow, store, HUB, short, 1)
            tg.start_soon(follow, store, HUB, long, 3)
            await settled()
            await store.append(HUB, A, checks(1))
            await until(lambda: len(short) == len(long) == 1)
            await settled()  # the short one has ended; the long one waits
            await store.append(HUB, A, checks(1))
            await until(lambda: len(long) == 2)
            await settled()
            await store.append(HUB, A, checks(1))

    assert short == [(HUB, 1)]
    assert long == [(HUB, 1), (HUB, 2), (HUB, 3)]


async def test_an_append_reaches_only_the_subscriber_of_its_hub(store: EventStore) -> None:
    mine: list[tuple[str, int]] = []
    theirs: list[tuple[str, int]] = []

    with within("subscriptions of two hubs", LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow, store, HUB, mine, 2)
            tg.start_soon(follow, store, OTHER, theirs, 1)
            await settled()
            await store.append(HUB, A, checks(1))
            await until(lambda: len(mine) == 1)
            await settled()  # whatever woke the other hub's subscriber, it read nothing
            assert theirs == []
            await store.append(OTHER, A, [registered()])
            await until(lambda: len(theirs) == 1)
            await settled()
            await store.append(HUB, A, checks(1))

    assert mine == [(HUB, 1), (HUB, 2)]
    assert theirs == [(OTHER, 1)]


# --- outages (memory store, faults at the backend interface) ---------------------------


class FaultyStore(MemoryEventStore):
    """The reference store, its log reads and live waits failing on demand.

    ``read_fault`` / ``wait_fault``: the error each read or wait raises while
    set (the same instance every time); ``wait_faults``: how many waits fail
    before ``wait_fault`` is cleared (None: until the test clears it).
    """

    def __init__(self) -> None:
        super().__init__()
        self.read_fault: BackendUnavailable | None = None
        self.wait_fault: BackendUnavailable | None = None
        self.wait_faults: int | None = None
        self.reads = 0
        self.failed_reads = 0
        self.waits = 0

    async def _read_log_page(self, hub_id: str, *, after: int, limit: int) -> Sequence[StoredEvent]:
        self.reads += 1
        fault = self.read_fault
        if fault is not None:
            self.failed_reads += 1
            await anyio.lowlevel.checkpoint()
            raise fault
        return await super()._read_log_page(hub_id, after=after, limit=limit)

    async def _wait_for_events(self, hub_id: str, after: int, woken: anyio.Event) -> None:
        self.waits += 1
        fault = self.wait_fault
        if fault is not None:
            if self.wait_faults is not None:
                self.wait_faults -= 1
                if self.wait_faults == 0:
                    self.wait_fault = None
            await anyio.lowlevel.checkpoint()
            raise fault
        await super()._wait_for_events(hub_id, after, woken)


@on_memory
async def test_a_read_outage_past_reconnect_timeout_raises_its_backend_unavailable() -> None:
    store = FaultyStore()
    store.reconnect_timeout = 0.1
    await store.append(HUB, A, checks(1))
    outage = BackendUnavailable("injected: the log cannot be read")
    seen: list[int] = []
    began = 0.0

    with within("a subscription through a long outage", LIMIT):
        with pytest.raises(BackendUnavailable) as caught:
            async with aclosing(store.subscribe(HUB)) as events:
                async for event in events:
                    seen.append(event.position)
                    if event.position == 1:
                        store.read_fault = outage  # the backend goes away from here on
                        began = anyio.current_time()
                        await store.append(HUB, A, checks(1))  # wakes it into the outage
        gave_up = anyio.current_time()

    assert caught.value is outage
    assert seen == [1]
    assert gave_up - began >= store.reconnect_timeout  # not before the outage outlasted it
    assert store.failed_reads >= 2  # it did retry before giving up
    assert store.reads == store.failed_reads + 1


@on_memory
async def test_with_no_reconnect_timeout_a_failed_read_raises_at_once() -> None:
    store = FaultyStore()
    store.reconnect_timeout = 0.0
    store.read_fault = outage = BackendUnavailable("injected: the log cannot be read")

    with (
        within("a subscription allowing no outage", LIMIT),
        pytest.raises(BackendUnavailable) as caught,
    ):
        async with aclosing(store.subscribe(HUB)) as events:
            async for _ in events:
                pass

    assert caught.value is outage
    assert (store.reads, store.waits) == (1, 0)


@on_memory
async def test_with_no_reconnect_timeout_a_failed_wait_raises_at_once() -> None:
    store = FaultyStore()
    store.reconnect_timeout = 0.0
    await store.append(HUB, A, checks(2))
    store.wait_fault = outage = BackendUnavailable("injected: no notifications")
    seen: list[int] = []

    with (
        within("a subscription allowing no outage", LIMIT),
        pytest.raises(BackendUnavailable) as caught,
    ):
        async with aclosing(store.subscribe(HUB)) as events:
            async for event in events:
                seen.append(event.position)

    assert caught.value is outage
    assert seen == [1, 2]  # caught up first: the wait after the last page failed
    assert (store.reads, store.waits) == (1, 1)


@on_memory
async def test_a_wait_outage_within_reconnect_timeout_resumes_at_the_same_position() -> None:
    store = FaultyStore()
    store.reconnect_timeout = 5.0
    await store.append(HUB, A, checks(1))
    store.wait_fault = BackendUnavailable("injected: no notifications")
    store.wait_faults = 2
    seen: list[tuple[str, int]] = []

    with within("a subscription through a short outage of its waits", LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow, store, HUB, seen, 3)
            await until(lambda: store.wait_fault is None and store.waits == 3)
            await settled()  # now waiting for real
            await store.append(HUB, A, checks(2))

    assert seen == [(HUB, 1), (HUB, 2), (HUB, 3)]  # nothing missed, nothing repeated
    assert store.reads == 4  # a read after each failed wait, one after the wake-up


@on_memory
async def test_waits_failing_between_good_reads_back_off_and_give_up() -> None:
    store = FaultyStore()
    store.reconnect_timeout = 0.3
    await store.append(HUB, A, checks(1))
    store.wait_fault = outage = BackendUnavailable("injected: no notifications")
    began = anyio.current_time()

    with (
        within("a subscription whose waits keep failing", LIMIT),
        pytest.raises(BackendUnavailable) as caught,
    ):
        async with aclosing(store.subscribe(HUB)) as events:
            async for _ in events:
                pass

    assert caught.value is outage
    assert anyio.current_time() - began >= store.reconnect_timeout
    # 0.05 + 0.1 + 0.2 s of backoff, not a re-read every 0.05 s
    assert (store.reads, store.waits) == (4, 4)


@on_memory
async def test_a_read_outage_within_reconnect_timeout_resumes_at_the_same_position() -> None:
    store = FaultyStore()
    store.reconnect_timeout = 5.0
    await store.append(HUB, A, checks(1))
    seen: list[tuple[str, int]] = []

    with within("a subscription through a short outage of its reads", LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow, store, HUB, seen, 3)
            await until(lambda: len(seen) == 1)
            await settled()
            store.read_fault = BackendUnavailable("injected: the log cannot be read")
            await store.append(HUB, A, checks(2))  # wakes the subscriber into the outage
            await until(lambda: store.failed_reads >= 2)
            store.read_fault = None

    assert seen == [(HUB, 1), (HUB, 2), (HUB, 3)]


# --- deleting samples of a stream never written ----------------------------------------


async def log_of(store: EventStore, hub_id: str) -> list[tuple[int, str, int, str]]:
    return [
        (e.position, e.stream, e.version, str(e.event_id)) async for e in store.read_log(hub_id)
    ]


async def test_deleting_samples_of_a_never_written_metrics_stream_removes_nothing(
    store: EventStore,
) -> None:
    await store.append(HUB, M, [sampled(1), sampled(2)])
    await store.append(HUB, A, [registered()])
    before = await log_of(store, HUB)

    assert await store.delete_metric_samples(HUB, NEVER, through_version=10) == 0

    assert await log_of(store, HUB) == before
    assert [p for p, *_ in before] == [1, 2, 3]
    assert await store.head(HUB) == 3
    assert await store.stream_version(HUB, M) == 2
    assert await store.stream_version(HUB, NEVER) == 0
    assert [e.version async for e in store.read_stream(HUB, NEVER)] == []
    assert await store.hubs() == [HUB]
    # and the stream is still writable from version 1
    assert (await store.append(HUB, NEVER, [sampled(3)])).version == 1


async def test_deleting_samples_in_a_hub_that_does_not_exist_removes_nothing(
    store: EventStore,
) -> None:
    await store.append(HUB, M, [sampled(1)])

    assert await store.delete_metric_samples(OTHER, M, through_version=10) == 0

    assert await store.hubs() == [HUB]
    assert await store.head(OTHER) == 0
    assert await store.head(HUB) == 1


# --- a retry's refusals name the hub -------------------------------------------------


async def test_a_retry_mixing_written_and_new_ids_is_refused_naming_its_hub(
    store: EventStore,
) -> None:
    batch = [registered(), checked()]
    await store.append(HUB, A, batch)

    with pytest.raises(DuplicateEventError) as caught:
        await store.append(HUB, A, [batch[1], checked(), checked()])

    assert str(caught.value) == (
        f"batch for hub {HUB!r}, stream {A!r} mixes 1 event id(s) already written with "
        "2 new one(s); append the new ones as their own batch"
    )
    assert await store.head(HUB) == 2


async def test_a_retry_to_another_stream_is_refused_naming_its_hub(store: EventStore) -> None:
    batch = checks(2)
    await store.append(HUB, A, [registered()])
    await store.append(HUB, A, batch)

    with pytest.raises(DuplicateEventError) as caught:
        await store.append(HUB, B, batch)

    assert str(caught.value) == (
        f"event ids of this batch were already written to hub {HUB!r} as a different batch "
        f"(stream {A!r}, version 2), not to {B!r}"
    )
    assert await store.stream_version(HUB, B) == 0


async def test_a_retry_in_another_order_is_refused_naming_its_hub(store: EventStore) -> None:
    batch = checks(2)
    await store.append(OTHER, A, batch)

    with pytest.raises(DuplicateEventError) as caught:
        await store.append(OTHER, A, batch[::-1])

    assert str(caught.value) == (
        f"event ids of this batch were already written to hub {OTHER!r} as a different batch "
        f"(stream {A!r}, version 1), not to {A!r}"
    )


async def test_a_wrong_expected_version_names_hub_stream_and_versions(store: EventStore) -> None:
    await store.append(HUB, A, checks(2))

    with pytest.raises(WrongExpectedVersion) as caught:
        await store.append(HUB, A, checks(1), expected_version=5)

    error = caught.value
    assert (error.hub_id, error.stream, error.expected, error.actual) == (HUB, A, 5, 2)
    assert str(error) == (
        f"Wrong expected version: 5 (Hub: {HUB}, Stream: {A}, Expected: 5, Actual: 2)"
    )
