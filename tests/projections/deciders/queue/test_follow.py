"""How a waiter is woken (``projections.deciders.queue.waiting``): by the events that
may let it in — a slot freed where it could use one, a request ahead of it
leaving — and by the pool changing, which it then reads again; not by the
others.  The service waits with a re-check interval of 60 s here, so only a
wake-up can let a waiter in within the test's limit.

A wrongly missing wake-up fails a test at its limit; a wrongly made one is
seen as an extra attempt (an acquire) or an extra read of the pool.
"""

from __future__ import annotations

import anyio
import pytest

from eventstore import EventStore, streams
from eventstore.envelope import RecordedEvent
from eventstore.events import (
    Event,
    HealthChanged,
    HubStopped,
    LockExpired,
    LockGranted,
    LockReleased,
    QueuedRequest,
    RequestAbandoned,
    RequestExpired,
    RequestGranted,
    RequestQueued,
    RequestRenewed,
)
from eventstore.values import ResourceStatus
from projections.deciders.queue import (
    Candidate,
    QueueService,
    Reservation,
    ReservationTimeout,
    rules,
)
from projections.deciders.queue.waiting import Waker
from tests.projections.deciders.queue.test_service import (
    HUB,
    LIMIT,
    T0,
    Bench,
    at,
    candidate,
    request,
    tapped_leases,
)

pytestmark = pytest.mark.anyio
QUIET = 0.2
"""How long a test gives a wrong wake-up to show (a right one never comes)."""


async def reserving(bench: Bench, owner: str, got: list[Reservation], **kwargs: object) -> None:
    got.append(await bench.reserve(owner, wait=LIMIT, **kwargs))


# --- wake-ups, through the service ---------------------------------------------------


async def test_a_freed_slot_wakes_a_waiter_before_its_recheck(store: EventStore) -> None:
    service = QueueService(store, recheck=60)

    async def pool(hub_id: str) -> list[Candidate]:
        return [candidate("a")]

    with anyio.fail_after(15):
        held = await service.leases.acquire(HUB, "a", "holder", ttl=30)
        assert held is not None
        got: list[Reservation] = []
        async with anyio.create_task_group() as tg:

            async def wait() -> None:
                got.append(await service.reserve(HUB, requirements=None, owner_id="w", ttl=30,
                                                 wait=15, pool=pool))  # fmt: skip

            tg.start_soon(wait)
            while not (await service.view(HUB)).waiting:
                await anyio.sleep(0.01)
            assert await service.leases.release(HUB, "a", "holder", held.token)
    assert [(r.instance_id, r.token) for r in got] == [("a", 3)]


async def test_a_slot_freed_where_the_waiter_cannot_be_served_does_not_wake_it() -> None:
    bench = Bench(candidate("a", tags=("gpu",)), candidate("b"))
    held = await bench.hold("a")
    leases = tapped_leases(bench)
    got: list[Reservation] = []
    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: reserving(bench, "w", got, requirements={"tags": ["gpu"]}))
            while leases.acquires.get("w") != 2:  # one as a newcomer, one once it waits
                await anyio.sleep(0.005)
            other = await leases.acquire(HUB, "b", "other", ttl=30)
            assert other is not None
            assert await leases.release(HUB, "b", "other", other.token)
            await anyio.sleep(QUIET)
            assert leases.acquires["w"] == 2
            assert await leases.release(HUB, "a", "holder", held.token)
    assert leases.acquires["w"] == 3 and [r.instance_id for r in got] == ["a"]


async def test_a_request_behind_the_waiter_leaving_does_not_wake_it() -> None:
    bench = Bench(candidate("a"))
    held = await bench.hold("a")
    leases = tapped_leases(bench)
    got: list[Reservation] = []
    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: reserving(bench, "w1", got))
            await bench.until_waiting("w1")
            while leases.acquires.get("w1") != 2:
                await anyio.sleep(0.005)
            bench.seconds = 1.0  # the one behind queues later
            async with anyio.create_task_group() as behind:
                behind.start_soon(lambda: reserving(bench, "w2", got))
                await bench.until_waiting("w1", "w2")
                behind.cancel_scope.cancel()
            assert [e.type for e in await bench.queue()][-1] == "RequestAbandoned"
            await anyio.sleep(QUIET)
            assert leases.acquires["w1"] == 2
            assert await leases.release(HUB, "a", "holder", held.token)
    assert leases.acquires["w1"] == 3 and [r.instance_id for r in got] == ["a"]


async def test_a_waiter_ahead_leaving_wakes_the_next() -> None:
    bench = Bench(candidate("a", capacity=2))
    await bench.hold("a", capacity=2)
    await bench.ghost("g")  # ahead: the one free slot is its
    got: list[Reservation] = []
    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: reserving(bench, "w", got))
            await bench.until_waiting("ghost", "w")
            assert await bench.service.log.change(
                HUB, lambda view, now: rules.abandon(view, "g", "cancelled", now), None
            )
    assert [(r.instance_id, r.lease.slots_left) for r in got] == [("a", 0)]


# --- the pool -------------------------------------------------------------------------


async def test_a_changed_pool_is_read_again_and_its_new_instance_granted() -> None:
    bench = Bench(candidate("a"), candidate("b", status=ResourceStatus.UNHEALTHY))
    await bench.hold("a")
    got: list[Reservation] = []
    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: reserving(bench, "w", got))
            await bench.until_waiting("w")
            assert bench.pool_reads == 2  # as a newcomer, and once it waits
            bench.candidates[1] = candidate("b")
            healthy = HealthChanged(
                from_status=ResourceStatus.UNHEALTHY, to_status=ResourceStatus.HEALTHY
            )
            await bench.store.append(HUB, streams.instance("b"), [healthy])
    assert [r.instance_id for r in got] == ["b"] and bench.pool_reads == 3


async def test_the_pool_is_not_read_again_while_nothing_changed_it() -> None:
    bench = Bench(candidate("a"))
    await bench.store.append(HUB, "hub", [HubStopped(reason="before the waiter came")])
    held = await bench.hold("a")
    got: list[Reservation] = []
    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: reserving(bench, "w", got))
            await bench.until_waiting("w")
            assert await bench.service.leases.release(HUB, "a", "holder", held.token)
    assert [r.instance_id for r in got] == ["a"] and bench.pool_reads == 2


async def test_a_waiter_timing_out_read_the_pool_only_as_a_newcomer_and_once_waiting() -> None:
    # A wait under a second, a recheck of 60 s: it times out at its deadline.
    bench = Bench(candidate("a"))
    await bench.store.append(HUB, "hub", [HubStopped(reason="before the waiter came")])
    await bench.hold("a")
    with anyio.fail_after(LIMIT), pytest.raises(ReservationTimeout):
        await bench.reserve("w", wait=0.3)
    assert bench.pool_reads == 2


async def test_an_empty_pool_is_read_again_at_every_recheck() -> None:
    bench = Bench(recheck=0.02)
    got: list[Reservation] = []
    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: reserving(bench, "w", got))
            await bench.until_waiting("w")
            bench.candidates.append(candidate("a"))  # no event says so
    assert [r.instance_id for r in got] == ["a"]


# --- the Waker itself -----------------------------------------------------------------


def recorded(stream: str, event: Event) -> RecordedEvent:
    return RecordedEvent(HUB, stream, 1, 1, event.event_id, type(event).__name__, 1, T0, event=event)


def freed(kind: type[LockReleased | LockExpired], resource: str) -> RecordedEvent:
    return recorded(streams.lease(resource), kind(owner="o", token=1))


def waiter(request_id: str, queued: float) -> QueuedRequest:
    return request(request_id, "o", queued=queued)


def left(
    kind: type[RequestGranted | RequestAbandoned | RequestExpired],
    who: QueuedRequest,
    *waiting: QueuedRequest,
) -> RecordedEvent:
    common = {"request_id": who.request_id, "owner": who.owner, "queued_at": who.queued_at,
              "decided_at": at(9), "waiting": waiting}  # fmt: skip
    if kind is RequestGranted:
        event: Event = RequestGranted(instance_id="a", token=1, free=1, **common)  # type: ignore[arg-type]
    elif kind is RequestAbandoned:
        event = RequestAbandoned(reason="cancelled", **common)  # type: ignore[arg-type]
    else:
        event = RequestExpired(expires_at=who.expires_at, **common)  # type: ignore[arg-type]
    return recorded(streams.queue(), event)


DEPARTURES = [RequestGranted, RequestAbandoned, RequestExpired]


@pytest.mark.parametrize("kind", [LockReleased, LockExpired])
def test_a_fresh_waker_is_concerned_by_every_freed_slot(
    kind: type[LockReleased | LockExpired],
) -> None:
    assert [Waker().concerns(freed(kind, name)) for name in ("a", "b")] == [True, True]


@pytest.mark.parametrize("kind", [LockReleased, LockExpired])
def test_a_waker_is_concerned_by_slots_freed_on_the_instances_it_could_use(
    kind: type[LockReleased | LockExpired],
) -> None:
    waker = Waker()
    waker.usable = frozenset({"a", "c"})
    assert [waker.concerns(freed(kind, name)) for name in "abc"] == [True, False, True]


def test_a_waker_is_not_concerned_by_grants_joins_or_renewals() -> None:
    mine = waiter("me", 1)
    waker = Waker()
    waker.usable, waker.request_id = None, "me"
    others = [
        recorded(streams.lease("a"), LockGranted(owner="o", token=1, ttl_s=1, expires_at=T0)),
        recorded(streams.queue(), RequestQueued(request=mine, decided_at=T0, waiting=(mine,))),
        recorded(
            streams.queue(),
            RequestRenewed(
                request_id="me", owner="o", expires_at=at(9), decided_at=T0, waiting=(mine,)
            ),
        ),
    ]
    assert [waker.concerns(e) for e in others] == [False, False, False]


@pytest.mark.parametrize("kind", DEPARTURES)
def test_a_waker_is_concerned_by_a_departure_from_ahead_of_it_or_at_its_time(
    kind: type[RequestGranted | RequestAbandoned | RequestExpired],
) -> None:
    mine, behind = waiter("me", 5), waiter("behind", 6)
    waker = Waker()
    waker.request_id = "me"
    cases = [
        left(kind, waiter("ahead", 4), mine, behind),
        left(kind, waiter("same-time", 5), mine, behind),  # it may have been ahead
        left(kind, behind, mine),
    ]
    assert [waker.concerns(e) for e in cases] == [True, True, False]


@pytest.mark.parametrize("kind", DEPARTURES)
def test_a_waker_not_in_the_queue_is_concerned_by_every_departure(
    kind: type[RequestGranted | RequestAbandoned | RequestExpired],
) -> None:
    mine, other = waiter("me", 5), waiter("other", 6)
    waker = Waker()
    waker.request_id = "me"
    fresh = Waker()  # not joined yet
    assert [waker.concerns(left(kind, mine, other)), fresh.concerns(left(kind, other, mine))] == [
        True,
        True,
    ]


def test_a_poke_marks_the_pool_changed_only_when_told() -> None:
    waker = Waker()
    waker.pool_changed = False
    waker.poke()
    assert waker.pool_changed is False
    waker.poke(pool=True)
    assert waker.pool_changed is True
    waker.poke()
    assert waker.pool_changed is True  # until the waiter reads it


async def test_a_poke_ends_a_wait_once() -> None:
    waker = Waker()
    with anyio.fail_after(LIMIT):
        waker.poke()
        await waker.wait(60)  # at once
        with anyio.move_on_after(0.05) as quiet:
            await waker.wait(60)  # the poke was used up
    assert quiet.cancelled_caught


async def test_a_wait_whose_time_is_past_returns_at_once() -> None:
    waker = Waker()
    with anyio.fail_after(0.5):  # one second would be a wait
        await waker.wait(0.0)
        await waker.wait(-3.0)
