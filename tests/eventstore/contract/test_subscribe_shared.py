"""subscribe's shared front: several subscribers at once, and the
answers every backend gives alike (a retry's refusal, a deletion of nothing).

The subscriber and deletion cases run on every backend through the contract
``store`` fixture; on the memory store an in-process wake-up is the only way
a waiting subscriber learns of an append, so two subscribers of one hub
waiting at once must both be woken by it.

The outage cases are in ``tests/eventstore/test_subscribe_faults.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing

import anyio
import anyio.lowlevel
import pytest

from eventstore import (
    DuplicateEventError,
    EventStore,
    WrongExpectedVersion,
)
from tests.deadlines import within
from tests.eventstore.contract.factories import checked, checks, registered, sampled

pytestmark = pytest.mark.anyio

HUB = "shared-hub"
OTHER = "other-hub"
A = "instance/a"
B = "instance/b"
M = "metrics/a"
NEVER = "metrics/never-written"

LIMIT = 10.0
"""Seconds for each case's subscriptions: an in-process wake-up takes milliseconds."""


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
