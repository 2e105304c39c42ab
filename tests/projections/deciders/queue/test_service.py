"""The reserve call's own logic: its argument checks, what it records, which
instance it picks, how a waiter renews, leaves, rejoins and gives a lease
back when its grant cannot be recorded.

The code under test is the service's, the same over every backend: most
tests run on a memory store whose clock the test moves (a waiter's place and
a lease run out only when the test says, and every recorded time is exact);
the few that record a waiter's life run on every backend too.  Faults are
put in by wrapping the service's queue log and lease service.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import anyio
import pytest
from msgspec.structs import replace

from adapters.memory import MemoryEventStore
from eventstore import EventStore, streams
from eventstore.envelope import RecordedEvent
from eventstore.errors import BackendUnavailable
from eventstore.events import (
    Event,
    HubStopped,
    LeaseHolder,
    LockGranted,
    LockReleased,
    QueuedRequest,
    QueueEvent,
    RequestAbandoned,
    RequestExpired,
    RequestGranted,
    RequestQueued,
    RequestRenewed,
    Requirements,
)
from eventstore.values import Metrics, ResourceStatus, ResourceType
from projections import InstanceState
from projections.deciders.leases import BackendClock, Lease, LeaseService
from projections.deciders.queue import (
    Candidate,
    InvalidReservation,
    QueueContention,
    Reservation,
    ReservationTimeout,
    rules,
)
from projections.deciders.queue import service as service_module
from projections.deciders.queue.log import Decide, QueueLog
from projections.deciders.queue.rules import Change
from projections.deciders.queue.service import Ask, QueueService, _renewal

pytestmark = pytest.mark.anyio
HUB = "pool"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
LIMIT = 5
NIL = uuid.UUID(int=0)
REQUEST_ID = re.compile(r"[0-9a-f]{32}")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def instance(
    name: str,
    *,
    load: int = 0,
    status: ResourceStatus = ResourceStatus.HEALTHY,
    registered: bool = True,
    serves: Sequence[str] = ("llama3",),
    tags: Sequence[str] = (),
) -> InstanceState:
    return InstanceState(
        id=name,
        name=name,
        resource_type=ResourceType.OLLAMA,
        endpoint=f"http://{name}",
        status=status,
        registered=registered,
        tags=frozenset(tags),
        capabilities=frozenset(serves),  # models are listed there too
        metrics=Metrics(active_connections=load),
        created_at=T0,
        updated_at=T0,
        registered_at=T0,
    )


def candidate(name: str, capacity: int = 1, **kwargs: Any) -> Candidate:
    return Candidate(instance=instance(name, **kwargs), capacity=capacity)


class Bench:
    """A memory store whose clock only the test moves (``seconds`` after
    T0), a pool of instances the test edits, and a QueueService over both."""

    def __init__(
        self, *candidates: Candidate, heartbeat: float = 60.0, recheck: float = 60.0
    ) -> None:
        self.seconds = 0.0
        self.store = MemoryEventStore(clock=lambda: at(self.seconds))
        self.clock = BackendClock(self.store, monotonic=lambda: self.seconds, drift=0.0)
        self.service = QueueService(
            self.store, clock=self.clock, heartbeat=heartbeat, recheck=recheck
        )
        self.candidates = list(candidates)
        self.pool_reads = 0
        self.pool_fails_at: int | None = None

    async def pool(self, hub_id: str) -> list[Candidate]:
        assert hub_id == HUB
        self.pool_reads += 1
        if self.pool_reads == self.pool_fails_at:
            raise RuntimeError("pool down")
        return list(self.candidates)

    async def reserve(self, owner: str, **kwargs: Any) -> Reservation:
        kwargs = {"requirements": None, "ttl": 30, **kwargs}
        return await self.service.reserve(HUB, owner_id=owner, pool=self.pool, **kwargs)

    async def hold(self, instance_id: str, owner: str = "holder", capacity: int = 1) -> Lease:
        lease = await self.service.leases.acquire(
            HUB, instance_id, owner, ttl=1000, capacity=capacity
        )
        assert lease is not None
        return lease

    async def ghost(self, request_id: str, requirements: Requirements | None = None) -> None:
        """A waiter that joined and went quiet (its place lasts 1000 s)."""
        needs = requirements or Requirements()
        ghost = Ask(HUB, request_id, "ghost", needs, ttl_s=30, heartbeat_s=1000, wait_s=1000)
        await QueueLog.change(
            self.service.log, HUB, lambda v, now: rules.join(v, ghost.at(now), now), None
        )

    async def queue(self) -> list[RecordedEvent]:
        return [e async for e in self.store.read_stream(HUB, streams.queue())]

    async def lock(self, instance_id: str) -> list[RecordedEvent]:
        return [e async for e in self.store.read_stream(HUB, streams.lease(instance_id))]

    async def until_waiting(self, *owners: str) -> tuple[QueuedRequest, ...]:
        """The queue once its waiters are ``owners`` (the caller's limit bounds it)."""
        while True:
            waiting = (await self.service.view(HUB)).waiting
            if [w.owner for w in waiting] == list(owners):
                return waiting
            await anyio.sleep(0.005)

    async def until_rejoined(self, old: QueuedRequest) -> QueuedRequest:
        """The one waiter once it is ``old``'s owner under another request id."""
        while True:
            (new,) = await self.until_waiting(old.owner)
            if new.request_id != old.request_id:
                return new
            await anyio.sleep(0.005)


def bare(events: Sequence[RecordedEvent | Event]) -> list[Event]:
    """The events without their ids, to compare whole."""
    out = []
    for e in events:
        event = e.event if isinstance(e, RecordedEvent) else e
        assert isinstance(event, Event)
        out.append(replace(event, event_id=NIL))
    return out


def request(request_id: str, owner: str, *, queued: float, **kwargs: Any) -> QueuedRequest:
    """The request a reserve call records, joined ``queued`` s after T0
    (heartbeat 60 s, wait LIMIT, ttl 30 s, any instance: the defaults here)."""
    fields: dict[str, Any] = {"ttl_s": 30.0, "heartbeat_s": 60.0, "wait_s": LIMIT, **kwargs}
    wait_s = fields.pop("wait_s")
    return QueuedRequest(
        request_id=request_id,
        owner=owner,
        queued_at=at(queued),
        expires_at=at(queued + fields["heartbeat_s"]),
        gives_up_at=at(queued + wait_s),
        **fields,
    )


# --- faults put in --------------------------------------------------------------------

Hook = Callable[[], Awaitable[None]]


class TappedLog(QueueLog):
    """The service's queue log, running ``before[kind]`` before each change of
    that kind (the type of the event the decision ends with; a heartbeat's
    is RequestRenewed even when it is refused)."""

    def __init__(self, log: QueueLog) -> None:
        super().__init__(log.store, log.clock, attempts=log.attempts)
        self.before: dict[type[QueueEvent], Hook] = {}
        self.refused_renewals = 0

    async def change(
        self, hub_id: str, decide: Decide, correlation_id: str | None
    ) -> Change | None:
        kind = await self._kind(hub_id, decide)
        hook = self.before.get(kind) if kind is not None else None
        if hook is not None:
            await hook()
        change = await super().change(hub_id, decide, correlation_id)
        if kind is RequestRenewed and change is None:
            self.refused_renewals += 1
        return change

    async def _kind(self, hub_id: str, decide: Decide) -> type[QueueEvent] | None:
        if getattr(decide, "func", None) is _renewal:
            return RequestRenewed
        view = await self.view(hub_id)
        change = decide(view, await self.lower(view))  # the rules are pure: a dry run
        return type(change.events[-1]) if change is not None and change.events else None


def tapped(bench: Bench) -> TappedLog:
    log = TappedLog(bench.service.log)
    bench.service.log = log
    return log


class TappedLeases(LeaseService):
    """The lease service, counting each owner's acquires and running
    ``on_acquire[(owner, n)]`` before the n-th, ``on_release`` before any release."""

    def __init__(self, bench: Bench) -> None:
        super().__init__(bench.store, clock=bench.clock)
        self.acquires: dict[str, int] = {}
        self.on_acquire: dict[tuple[str, int], Hook] = {}
        self.on_release: Hook | None = None

    async def acquire(
        self,
        hub_id: str,
        resource_id: str,
        owner_id: str,
        *,
        ttl: float,
        capacity: int = 1,
        correlation_id: str | uuid.UUID | None = None,
    ) -> Lease | None:
        n = self.acquires[owner_id] = self.acquires.get(owner_id, 0) + 1
        hook = self.on_acquire.get((owner_id, n))
        if hook is not None:
            await hook()
        return await super().acquire(
            hub_id, resource_id, owner_id, ttl=ttl, capacity=capacity, correlation_id=correlation_id
        )

    async def release(
        self,
        hub_id: str,
        resource_id: str,
        owner_id: str,
        token: int,
        *,
        correlation_id: str | uuid.UUID | None = None,
    ) -> bool:
        if self.on_release is not None:
            await self.on_release()
        return await super().release(
            hub_id, resource_id, owner_id, token, correlation_id=correlation_id
        )


def tapped_leases(bench: Bench) -> TappedLeases:
    leases = TappedLeases(bench)
    bench.service.leases = leases
    return leases


async def unavailable() -> None:
    raise BackendUnavailable("the backend went away")


async def stalled() -> None:
    await anyio.sleep(2 * LIMIT)  # past the test's limit: a hang fails the test


# --- the arguments --------------------------------------------------------------------

NAN, INF = math.nan, math.inf
BAD_NUMBERS = [
    ("ttl", True, "ttl must be a number of seconds, got True"),
    ("ttl", "30", "ttl must be a number of seconds, got '30'"),
    ("ttl", None, "ttl must be a number of seconds, got None"),
    ("ttl", NAN, "ttl out of range: nan"),
    ("ttl", INF, "ttl out of range: inf"),
    ("ttl", 0, "ttl out of range: 0"),
    ("ttl", 0.0, "ttl out of range: 0.0"),
    ("ttl", -1, "ttl out of range: -1"),
    ("wait", True, "wait must be a number of seconds, got True"),
    ("wait", False, "wait must be a number of seconds, got False"),
    ("wait", "5", "wait must be a number of seconds, got '5'"),
    ("wait", NAN, "wait out of range: nan"),
    ("wait", INF, "wait out of range: inf"),
    ("wait", -INF, "wait out of range: -inf"),
    ("wait", -0.5, "wait out of range: -0.5"),
    ("heartbeat", True, "heartbeat must be a number of seconds, got True"),
    ("heartbeat", "10", "heartbeat must be a number of seconds, got '10'"),
    ("heartbeat", NAN, "heartbeat out of range: nan"),
    ("heartbeat", INF, "heartbeat out of range: inf"),
    ("heartbeat", -1.0, "heartbeat out of range: -1.0"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_NUMBERS)
async def test_a_bad_number_of_seconds_is_refused_by_name_before_anything_is_read(
    name: str, value: object, message: str
) -> None:
    bench = Bench(candidate("a"))
    with anyio.fail_after(LIMIT), pytest.raises(InvalidReservation) as refused:
        await bench.reserve("n", **{"ttl": 30, "wait": 1.0, name: value})
    assert str(refused.value) == message
    assert (bench.pool_reads, await bench.queue()) == (0, [])


@pytest.mark.parametrize("value", [0, 0.0, False])
async def test_a_falsy_heartbeat_is_refused_like_any_other_bad_one(value: object) -> None:
    bench = Bench(candidate("a"))
    with anyio.fail_after(LIMIT), pytest.raises(InvalidReservation):
        await bench.reserve("n", heartbeat=value)


@pytest.mark.parametrize(
    ("owner", "message"),
    [
        ("", "owner_id must be a non-empty str, got ''"),
        (None, "owner_id must be a non-empty str, got None"),
        (7, "owner_id must be a non-empty str, got 7"),
        (b"n1", "owner_id must be a non-empty str, got b'n1'"),
    ],
)
async def test_an_owner_that_is_not_a_non_empty_str_is_refused(owner: object, message: str) -> None:
    bench = Bench(candidate("a"))
    with anyio.fail_after(LIMIT), pytest.raises(InvalidReservation) as refused:
        await bench.reserve(owner, wait=1.0)  # type: ignore[arg-type]
    assert str(refused.value) == message
    assert (bench.pool_reads, await bench.queue()) == (0, [])


async def test_a_zero_wait_is_allowed_and_the_default() -> None:
    bench = Bench(candidate("a"))
    await bench.hold("a")
    with anyio.fail_after(LIMIT):
        for kwargs in ({"wait": 0}, {"wait": 0.0}, {}):
            with pytest.raises(ReservationTimeout) as refused:
                await bench.reserve("n2", **kwargs)
            assert refused.value.wait == 0
    assert await bench.queue() == []


# --- what a grant records -------------------------------------------------------------


async def test_a_free_slot_is_granted_at_once_with_the_request_recorded_whole() -> None:
    bench = Bench(candidate("a"))
    with anyio.fail_after(LIMIT):
        got = await bench.reserve(
            "n1", requirements={"models": "llama3"}, ttl=30, wait=5, heartbeat=2
        )
    queue = await bench.queue()
    rid = queue[0].correlation_id
    assert rid is not None and REQUEST_ID.fullmatch(rid)
    asked = request(
        rid, "n1", queued=0, requirements=Requirements(models=("llama3",)), heartbeat_s=2.0,
        wait_s=5,
    )  # fmt: skip
    assert bare(queue) == bare(
        [
            RequestQueued(request=asked, decided_at=T0, waiting=(asked,)),
            RequestGranted(request_id=rid, owner="n1", instance_id="a", token=1, free=1,
                           queued_at=T0, decided_at=T0, waiting=()),
        ]
    )  # fmt: skip
    assert [e.correlation_id for e in queue] == [rid, rid]
    lease = Lease(hub_id=HUB, resource_id="a", owner="n1", token=1, ttl_s=30.0,
                  expires_at=at(30), capacity=1, slots_left=0)  # fmt: skip
    assert got == Reservation(request_id=rid, instance_id="a", lease=lease, waited_s=0.0)
    assert [e.correlation_id for e in await bench.lock("a")] == [rid]


async def test_a_full_pool_with_no_wait_refuses_without_joining_the_queue() -> None:
    bench = Bench(candidate("a"))
    await bench.hold("a")
    with anyio.fail_after(LIMIT), pytest.raises(ReservationTimeout) as refused:
        await bench.reserve("n2")
    rid = refused.value.request_id
    assert REQUEST_ID.fullmatch(rid)
    assert (refused.value.hub_id, refused.value.owner_id, refused.value.wait) == (HUB, "n2", 0.0)
    assert (
        str(refused.value) == f"Reservation timed out: 0 s (Hub: pool, Owner: n2, Request: {rid})"
    )
    assert await bench.queue() == []
    assert [e.type for e in await bench.lock("a")] == ["LockGranted"]


async def test_a_waiter_granted_after_a_release_waited_by_the_backend_clock() -> None:
    bench = Bench(candidate("a"))
    held = await bench.hold("a")
    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as tg:
            got: list[Reservation] = []

            async def wait() -> None:
                got.append(await bench.reserve("w", wait=LIMIT))

            tg.start_soon(wait)
            (mine,) = await bench.until_waiting("w")
            bench.seconds = 2.5
            await bench.service.leases.release(HUB, "a", "holder", held.token)
    lease = Lease(hub_id=HUB, resource_id="a", owner="w", token=3, ttl_s=30.0,
                  expires_at=at(32.5), capacity=1, slots_left=0)  # fmt: skip
    rid = mine.request_id
    assert got == [Reservation(request_id=rid, instance_id="a", lease=lease, waited_s=2.5)]
    assert bare((await bench.queue())[1:]) == bare(
        [RequestGranted(request_id=rid, owner="w", instance_id="a", token=3, free=1,
                        queued_at=T0, decided_at=at(2.5), waiting=())]
    )  # fmt: skip


async def test_an_instance_of_capacity_two_grants_two_leases() -> None:
    bench = Bench(candidate("a", capacity=2))
    with anyio.fail_after(LIMIT):
        first, second = await bench.reserve("n1"), await bench.reserve("n2")
        with pytest.raises(ReservationTimeout):
            await bench.reserve("n3")
    assert [(r.instance_id, r.lease.token, r.lease.capacity, r.lease.slots_left)
            for r in (first, second)] == [("a", 1, 2, 1), ("a", 2, 2, 0)]  # fmt: skip
    grants = [e.event for e in await bench.queue() if isinstance(e.event, RequestGranted)]
    assert [g.free for g in grants] == [2, 1]


# --- which instance -------------------------------------------------------------------


async def test_the_least_loaded_instance_is_taken_first_and_a_tie_goes_by_id() -> None:
    bench = Bench(candidate("b", load=3), candidate("d", load=1), candidate("c", load=1))
    with anyio.fail_after(LIMIT):
        taken = [(await bench.reserve(f"n{i}")).instance_id for i in range(3)]
    assert taken == ["c", "d", "b"]


async def test_unavailable_and_non_matching_instances_are_skipped() -> None:
    bench = Bench(
        candidate("a", status=ResourceStatus.UNHEALTHY),
        candidate("b", registered=False),
        candidate("c", serves=("mistral",)),
        candidate("d", tags=("cpu",)),
        candidate("e", load=9, tags=("gpu",)),
    )
    with anyio.fail_after(LIMIT):
        got = await bench.reserve("n", requirements={"models": ["llama3"], "tags": "gpu"})
        assert got.instance_id == "e"
        with pytest.raises(ReservationTimeout):  # e is full now; none of the others will do
            await bench.reserve("n2", requirements={"models": ["llama3"], "tags": "gpu"})
    for name in "abcd":
        assert await bench.lock(name) == []


async def test_a_full_instance_is_passed_over_for_the_next() -> None:
    bench = Bench(candidate("a"), candidate("b", load=1))
    await bench.hold("a")
    with anyio.fail_after(LIMIT):
        assert (await bench.reserve("n")).instance_id == "b"


async def test_an_instance_whose_capacity_changed_is_passed_over_for_the_next() -> None:
    bench = Bench(candidate("a", capacity=2), candidate("b", load=1))
    await bench.hold("a", capacity=1)  # the lock's capacity is fixed at 1 by its first grant
    with anyio.fail_after(LIMIT):
        assert (await bench.reserve("n")).instance_id == "b"
    assert [e.type for e in await bench.lock("a")] == ["LockGranted"]


async def test_a_slot_a_waiter_ahead_could_take_is_left_to_it_without_leasing_it() -> None:
    bench = Bench(candidate("a", capacity=2), candidate("b", load=1))
    await bench.hold("a", capacity=2)  # one slot left on a
    await bench.ghost("g", Requirements(instances=("a",)))  # ahead, and could use a
    with anyio.fail_after(LIMIT):
        got = await bench.reserve("n")
    assert got.instance_id == "b"
    assert [e.type for e in await bench.lock("a")] == ["LockGranted"]  # the holder's only


async def test_a_slot_beyond_those_the_waiters_ahead_could_take_is_granted() -> None:
    bench = Bench(candidate("a", capacity=3))
    await bench.hold("a", capacity=3)  # two slots left on a, one waiter ahead
    await bench.ghost("g", Requirements(instances=("a",)))
    with anyio.fail_after(LIMIT):
        got = await bench.reserve("n")
    assert (got.instance_id, got.lease.token, got.lease.slots_left) == ("a", 2, 1)
    granted = (await bench.queue())[-1].event
    assert isinstance(granted, RequestGranted) and granted.free == 2


# --- a grant that cannot be recorded ---------------------------------------------------


def released(owner: str, token: int, ttl_s: float, decided: float) -> LockReleased:
    return LockReleased(owner=owner, token=token, ttl_s=ttl_s, expires_at=at(decided + ttl_s),
                        capacity=1, decided_at=at(decided), holders=())  # fmt: skip


def granted(owner: str, token: int, ttl_s: float, decided: float) -> LockGranted:
    holder = LeaseHolder(owner=owner, token=token, ttl_s=ttl_s, expires_at=at(decided + ttl_s))
    return LockGranted(owner=owner, token=token, ttl_s=ttl_s, expires_at=holder.expires_at,
                       capacity=1, decided_at=at(decided), holders=(holder,))  # fmt: skip


async def test_a_lease_is_given_back_when_the_queue_no_longer_entitles_its_grant() -> None:
    bench = Bench(candidate("a"))
    log = tapped(bench)

    async def someone_joins_first() -> None:
        del log.before[RequestGranted]
        await bench.ghost("g")  # between the lease and the grant: now ahead of the newcomer

    log.before[RequestGranted] = someone_joins_first
    with anyio.fail_after(LIMIT), pytest.raises(ReservationTimeout):
        await bench.reserve("n")
    assert bare(await bench.lock("a")) == bare([granted("n", 1, 30, 0), released("n", 1, 30, 0)])
    assert [e.type for e in await bench.queue()] == ["RequestQueued"]  # the ghost's


async def test_a_lease_is_given_back_when_recording_its_grant_fails() -> None:
    bench = Bench(candidate("a"))
    tapped(bench).before[RequestGranted] = unavailable
    with anyio.fail_after(LIMIT), pytest.raises(BackendUnavailable) as failed:
        await bench.reserve("n")
    assert str(failed.value) == "the backend went away"
    assert bare(await bench.lock("a")) == bare([granted("n", 1, 30, 0), released("n", 1, 30, 0)])
    assert await bench.queue() == []


async def test_a_reserve_cancelled_while_recording_its_grant_gives_its_lease_back() -> None:
    bench = Bench(candidate("a"))
    recording = anyio.Event()

    async def stall() -> None:
        recording.set()
        await anyio.sleep_forever()

    tapped(bench).before[RequestGranted] = stall
    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(bench.reserve, "n")
            await recording.wait()
            tg.cancel_scope.cancel()
    assert bare(await bench.lock("a")) == bare([granted("n", 1, 30, 0), released("n", 1, 30, 0)])


async def test_a_give_back_that_hangs_is_left_to_the_lease_ttl_after_the_cleanup_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service_module, "CLEANUP_S", 0.05)
    bench = Bench(candidate("a"))
    tapped(bench).before[RequestGranted] = unavailable
    tapped_leases(bench).on_release = stalled
    with anyio.fail_after(LIMIT), pytest.raises(BackendUnavailable):
        await bench.reserve("n")
    assert [e.type for e in await bench.lock("a")] == ["LockGranted"]


# --- waiting: timeout, cancel, failure ---------------------------------------------------


async def test_a_waiter_that_times_out_records_its_request_and_its_leaving() -> None:
    bench = Bench(candidate("a"))  # recheck 60 s: the deadline ends the wait, not a recheck
    await bench.hold("a")
    with anyio.fail_after(LIMIT), pytest.raises(ReservationTimeout) as refused:
        await bench.reserve("w", ttl=20, wait=0.3, requirements={"tags": ["x"]}, heartbeat=60)
    rid = refused.value.request_id
    assert REQUEST_ID.fullmatch(rid)
    assert (refused.value.hub_id, refused.value.owner_id, refused.value.wait) == (HUB, "w", 0.3)
    assert (
        str(refused.value) == f"Reservation timed out: 0.3 s (Hub: pool, Owner: w, Request: {rid})"
    )
    asked = request(
        rid, "w", queued=0, ttl_s=20.0, wait_s=0.3, requirements=Requirements(tags=("x",))
    )
    queue = await bench.queue()
    assert bare(queue) == bare(
        [
            RequestQueued(request=asked, decided_at=T0, waiting=(asked,)),
            RequestAbandoned(request_id=rid, owner="w", reason="timeout", queued_at=T0,
                             decided_at=T0, waiting=()),
        ]
    )  # fmt: skip
    assert [e.correlation_id for e in queue] == [rid, rid]


async def test_a_cancelled_waiter_leaves_with_reason_cancelled() -> None:
    bench = Bench(candidate("a"))
    await bench.hold("a")
    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: bench.reserve("w", wait=LIMIT))
            (mine,) = await bench.until_waiting("w")
            bench.seconds = 1.0
            tg.cancel_scope.cancel()
    rid = mine.request_id
    assert mine == request(rid, "w", queued=0)
    queue = await bench.queue()
    assert bare(queue[1:]) == bare(
        [RequestAbandoned(request_id=rid, owner="w", reason="cancelled", queued_at=T0,
                          decided_at=at(1), waiting=())]
    )  # fmt: skip
    assert [e.correlation_id for e in queue] == [rid, rid]


async def test_a_waiter_whose_pool_fails_leaves_with_reason_failed_and_raises_the_error() -> None:
    bench = Bench(candidate("a"))
    await bench.hold("a")
    bench.pool_fails_at = 2  # the first read once it waits
    with anyio.fail_after(LIMIT), pytest.raises(RuntimeError) as failed:
        await bench.reserve("w", wait=LIMIT)
    assert (type(failed.value), str(failed.value)) == (RuntimeError, "pool down")
    queue = await bench.queue()
    rid = queue[0].correlation_id
    assert rid is not None
    assert bare(queue[1:]) == bare(
        [RequestAbandoned(request_id=rid, owner="w", reason="failed", queued_at=T0,
                          decided_at=T0, waiting=())]
    )  # fmt: skip


async def test_a_timed_out_waiter_whose_leaving_cannot_be_recorded_raises_the_backend_error() -> (
    None
):
    bench = Bench(candidate("a"))
    await bench.hold("a")
    tapped(bench).before[RequestAbandoned] = unavailable
    with anyio.fail_after(LIMIT), pytest.raises(BackendUnavailable) as failed:
        await bench.reserve("w", wait=0.2)
    assert str(failed.value) == "the backend went away"
    assert [e.type for e in await bench.queue()] == ["RequestQueued"]


async def test_a_cancelled_waiter_whose_leaving_cannot_be_recorded_is_just_cancelled() -> None:
    bench = Bench(candidate("a"))
    await bench.hold("a")
    tapped(bench).before[RequestAbandoned] = unavailable
    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: bench.reserve("w", wait=LIMIT))
            await bench.until_waiting("w")
            tg.cancel_scope.cancel()
    assert [e.type for e in await bench.queue()] == ["RequestQueued"]


async def test_a_leaving_that_hangs_gives_up_after_the_cleanup_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service_module, "CLEANUP_S", 0.05)
    bench = Bench(candidate("a"))
    await bench.hold("a")
    tapped(bench).before[RequestAbandoned] = stalled
    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: bench.reserve("w", wait=LIMIT))
            await bench.until_waiting("w")
            tg.cancel_scope.cancel()
    assert [w.owner for w in (await bench.service.view(HUB)).waiting] == ["w"]  # runs out


# --- the heartbeat ----------------------------------------------------------------------


class _Sleeps(ModuleType):
    """``anyio`` as the service module sees it, noting each sleep's length."""

    def __init__(self) -> None:
        super().__init__("anyio")
        self.slept: list[float] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(anyio, name)

    async def sleep(self, delay: float) -> None:
        self.slept.append(delay)
        await anyio.sleep(delay)


async def test_a_waiter_renews_its_place_every_third_of_its_heartbeat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sleeps = _Sleeps()
    monkeypatch.setattr(service_module, "anyio", sleeps)  # the heartbeat's is its only sleep
    bench = Bench(candidate("a"))
    await bench.hold("a")
    with anyio.fail_after(LIMIT), pytest.raises(ReservationTimeout):
        await bench.reserve("w", wait=0.4, heartbeat=0.75)
    assert sleeps.slept and set(sleeps.slept) == {0.25}
    queue = await bench.queue()
    rid = queue[0].correlation_id
    assert rid is not None
    mine = request(rid, "w", queued=0, heartbeat_s=0.75, wait_s=0.4)
    renewed = RequestRenewed(request_id=rid, owner="w", expires_at=at(0.75), decided_at=T0,
                             waiting=(mine,))  # fmt: skip
    renewals = queue[1:-1]
    assert renewals and bare(renewals) == bare([renewed] * len(renewals))
    assert [e.correlation_id for e in renewals] == [rid] * len(renewals)
    assert queue[-1].type == "RequestAbandoned"


async def test_a_heartbeat_losing_its_races_stops_once_the_waiter_leaves() -> None:
    bench = Bench(candidate("a"))
    await bench.hold("a")
    log = tapped(bench)
    tries = {"lost": 0, "after_leaving": 0}

    async def lose() -> None:
        if RequestAbandoned not in log.before:
            tries["after_leaving"] += 1
        await anyio.sleep(0.005)
        tries["lost"] += 1
        raise QueueContention(HUB, log.attempts)

    async def leave_slowly() -> None:
        del log.before[RequestAbandoned]
        await anyio.sleep(0.05)  # time for a heartbeat still going to try again

    log.before[RequestRenewed], log.before[RequestAbandoned] = lose, leave_slowly
    with anyio.fail_after(LIMIT), pytest.raises(ReservationTimeout):
        await bench.reserve("w", wait=0.25, heartbeat=0.3)
    assert tries["lost"] > 0 and tries["after_leaving"] == 0
    assert [e.type for e in await bench.queue()] == ["RequestQueued", "RequestAbandoned"]


# --- a place lost -----------------------------------------------------------------------


async def test_reap_drops_the_waiters_whose_heartbeat_stopped_and_counts_them() -> None:
    bench = Bench()
    with anyio.fail_after(LIMIT):
        assert await bench.service.reap(HUB) == 0
        await bench.ghost("g1")
        bench.seconds = 1.0
        await bench.ghost("g2")
        assert await bench.service.reap(HUB) == 0
        assert len(await bench.queue()) == 2  # nothing written
        bench.seconds = 1001.0
        assert await bench.service.reap(HUB) == 2
    g2 = QueuedRequest(request_id="g2", owner="ghost", ttl_s=30, heartbeat_s=1000,
                       queued_at=at(1), expires_at=at(1001), gives_up_at=at(1001))  # fmt: skip
    queue = await bench.queue()
    assert bare(queue[2:]) == bare(
        [
            RequestExpired(request_id="g1", owner="ghost", expires_at=at(1000), queued_at=T0,
                           decided_at=at(1001), waiting=(g2,)),
            RequestExpired(request_id="g2", owner="ghost", expires_at=at(1001), queued_at=at(1),
                           decided_at=at(1001), waiting=()),
        ]
    )  # fmt: skip
    assert [e.correlation_id for e in queue[2:]] == [None, None]


async def test_a_waiter_dropped_after_its_heartbeat_ran_out_rejoins_under_a_new_id() -> None:
    bench = Bench(candidate("a"))
    held = await bench.hold("a")
    got: list[Reservation] = []
    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: _into(got, bench.reserve("w", wait=LIMIT)))
            (old,) = await bench.until_waiting("w")
            bench.seconds = 61.0  # its place ran out at 60 s (a stalled process)
            assert await bench.service.reap(HUB) == 1
            (new,) = await bench.until_waiting("w")
            await bench.service.leases.release(HUB, "a", "holder", held.token)
    assert new.request_id != old.request_id and REQUEST_ID.fullmatch(new.request_id)
    assert (old, new) == (
        request(old.request_id, "w", queued=0),
        request(new.request_id, "w", queued=61),
    )
    assert bare(await bench.queue()) == bare(
        [
            RequestQueued(request=old, decided_at=T0, waiting=(old,)),
            RequestExpired(request_id=old.request_id, owner="w", expires_at=at(60), queued_at=T0,
                           decided_at=at(61), waiting=()),
            RequestQueued(request=new, decided_at=at(61), waiting=(new,)),
            RequestGranted(request_id=new.request_id, owner="w", instance_id="a", token=3, free=1,
                           queued_at=at(61), decided_at=at(61), waiting=()),
        ]
    )  # fmt: skip
    assert [r.request_id for r in got] == [new.request_id]


async def test_a_waiter_whose_place_runs_out_at_this_very_instant_rejoins() -> None:
    bench = Bench(candidate("a"))
    await bench.hold("a")
    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: bench.reserve("w", wait=LIMIT))
            (old,) = await bench.until_waiting("w")
            bench.seconds = 60.0  # exactly its expires_at: no longer live
            await bench.store.append(HUB, "hub", [HubStopped(reason="test")])  # wakes it
            new = await bench.until_rejoined(old)
            tg.cancel_scope.cancel()
    assert new == request(new.request_id, "w", queued=60) and new.request_id != old.request_id


async def test_a_heartbeat_finding_the_place_gone_makes_the_waiter_rejoin_at_once() -> None:
    # The place runs out (no event says so) while the waiter's attempt is
    # under way, after it read the queue: only its heartbeat sees it gone.
    bench = Bench(candidate("a"))  # recheck 60 s: no second look by itself
    await bench.hold("a")
    log, leases = tapped(bench), tapped_leases(bench)
    attempting, heartbeat_refused = anyio.Event(), anyio.Event()

    async def attempt_slowly() -> None:  # the first attempt once it waits
        attempting.set()
        await heartbeat_refused.wait()

    leases.on_acquire[("w", 2)] = attempt_slowly
    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: bench.reserve("w", wait=LIMIT, heartbeat=0.3))
            await attempting.wait()
            (old,) = (await bench.service.view(HUB)).waiting
            bench.seconds = 1.0
            while not log.refused_renewals:
                await anyio.sleep(0.005)
            heartbeat_refused.set()
            new = await bench.until_rejoined(old)
            tg.cancel_scope.cancel()
    assert new.request_id != old.request_id
    assert new == request(new.request_id, "w", queued=1, heartbeat_s=0.3)


async def _into(got: list[Reservation], reserving: Awaitable[Reservation]) -> None:
    got.append(await reserving)


# --- every backend ----------------------------------------------------------------------


async def test_a_waiter_records_its_request_and_its_leaving_on_every_backend(
    store: EventStore,
) -> None:
    service = QueueService(store, recheck=60)
    pool = [candidate("a")]

    async def instances(hub_id: str) -> list[Candidate]:
        return pool

    with anyio.fail_after(15):
        held = await service.leases.acquire(HUB, "a", "holder", ttl=30)
        assert held is not None
        with pytest.raises(ReservationTimeout) as refused:
            await service.reserve(HUB, requirements={"models": ["llama3"]}, owner_id="w",
                                  ttl=20, wait=0.2, heartbeat=5, pool=instances)  # fmt: skip
        queue = [e async for e in store.read_stream(HUB, streams.queue())]
    rid = refused.value.request_id
    queued, left = (e.event for e in queue)
    assert isinstance(queued, RequestQueued) and isinstance(left, RequestAbandoned)
    t = queued.decided_at
    asked = QueuedRequest(request_id=rid, owner="w", requirements=Requirements(models=("llama3",)),
                          ttl_s=20.0, heartbeat_s=5.0, queued_at=t,
                          expires_at=t + timedelta(seconds=5), gives_up_at=t + timedelta(seconds=0.2))  # fmt: skip
    assert bare([queued, left]) == bare(
        [
            RequestQueued(request=asked, decided_at=t, waiting=(asked,)),
            RequestAbandoned(request_id=rid, owner="w", reason="timeout", queued_at=t,
                             decided_at=left.decided_at, waiting=()),
        ]
    )  # fmt: skip
    assert left.decided_at >= t
    assert [e.correlation_id for e in queue] == [rid, rid]


async def test_a_waiter_whose_heartbeat_is_held_up_rejoins_and_is_granted_on_every_backend(
    store: EventStore,
) -> None:
    service = QueueService(store, recheck=0.05)
    log = TappedLog(service.log)
    service.log = log
    renewing = anyio.Event()

    async def held_up() -> None:
        await renewing.wait()

    async def instances(hub_id: str) -> list[Candidate]:
        return [candidate("a")]

    log.before[RequestRenewed] = held_up
    with anyio.fail_after(15):
        held = await service.leases.acquire(HUB, "a", "holder", ttl=30)
        assert held is not None
        got: list[Reservation] = []
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: _into(got, service.reserve(
                HUB, requirements=None, owner_id="w", ttl=30, wait=10, heartbeat=0.3,
                pool=instances)))  # fmt: skip
            while not (view := await service.view(HUB)).waiting:
                await anyio.sleep(0.01)
            old = view.waiting[0].request_id
            # Its place runs out; its own next look finds it gone and joins again.
            while not any(w.request_id != old for w in (await service.view(HUB)).waiting):
                await anyio.sleep(0.01)
            renewing.set()
            assert await service.leases.release(HUB, "a", "holder", held.token)
        queue = [e async for e in store.read_stream(HUB, streams.queue())]
    new = got[0].request_id
    assert new != old and [(e.type, e.correlation_id) for e in queue] == [
        ("RequestQueued", old),
        ("RequestExpired", new),  # recorded by its join
        ("RequestQueued", new),
        *[("RequestRenewed", new)] * (len(queue) - 4),
        ("RequestGranted", new),
    ]
