"""What the lease service answers besides a plain grant: the exact refusal
of each impossible argument, the whole lease and expiry it records, the
decision time never before the lock's last event, an append retried through
an outage, the back-off between lost races, and an unreadable event deep in
a lock stream written before lock events carried their state.

The code under test is the same over every backend: these run on the memory
store (the round trips run on all).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from eventstore import CATALOGUE, Codec, EventStore
from eventstore.errors import BackendUnavailable
from eventstore.events import LeaseHolder, LockExpired, LockGranted, LockReleased
from eventstore.retry import RetryPolicy
from projections.deciders import loop
from projections.deciders.leases import (
    BackendClock,
    InvalidLeaseRequest,
    Lease,
    LeaseContention,
    LeaseService,
    LeaseUnreadable,
)
from tests.backends import Backend
from tests.projections.deciders.leases.test_edges import (
    HUB,
    RESOURCE,
    STREAM,
    LockAudited,
    OutracedLeases,
)

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("backend", [Backend("memory")], ids=["memory"]),
]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"owner_id": ""}, "owner_id must be a non-empty str, got ''"),
        ({"owner_id": 7}, "owner_id must be a non-empty str, got 7"),
        ({"ttl": "30"}, "ttl must be a finite number of seconds, got '30'"),
        ({"ttl": float("inf")}, "ttl must be a finite number of seconds, got inf"),
        ({"ttl": -1}, "ttl must be > 0 seconds, got -1"),
        ({"capacity": True}, "capacity must be an int >= 1, got True"),
        ({"capacity": 1.0}, "capacity must be an int >= 1, got 1.0"),
        ({"capacity": 0}, "capacity must be an int >= 1, got 0"),
    ],
)
async def test_each_impossible_acquire_is_refused_naming_the_argument(
    store: EventStore, kwargs: dict[str, Any], message: str
) -> None:
    call: dict[str, Any] = {"owner_id": "node-a", "ttl": 30, "capacity": 1, **kwargs}
    with pytest.raises(InvalidLeaseRequest) as refused:
        await LeaseService(store).acquire(HUB, RESOURCE, **call)
    assert str(refused.value) == message
    assert await store.stream_version(HUB, STREAM) == 0


async def test_a_grant_returns_the_whole_lease_and_records_the_callers_correlation_id(
    store: EventStore,
) -> None:
    leases = LeaseService(store)
    first = await leases.acquire(HUB, RESOURCE, "a", ttl=30, capacity=2, correlation_id="job-1")
    assert first is not None
    assert first == Lease(
        hub_id=HUB,
        resource_id=RESOURCE,
        owner="a",
        token=1,
        ttl_s=30.0,
        expires_at=first.expires_at,
        capacity=2,
        slots_left=1,
    )
    granted = await store.last_event(HUB, STREAM)
    assert granted is not None and granted.correlation_id == "job-1"
    assert isinstance(granted.event, LockGranted)
    assert first.expires_at == granted.event.expires_at


async def test_an_expiry_records_the_lease_that_ran_out_in_full(store: EventStore) -> None:
    leases = LeaseService(store)
    lease = await leases.acquire(HUB, RESOURCE, "a", ttl=0.01, capacity=3)
    assert lease is not None
    while await leases.clock.lower() <= lease.expires_at:
        pass  # the memory store's clock: a few milliseconds

    assert await leases.reap(HUB, RESOURCE) == 1

    expired = await store.last_event(HUB, STREAM)
    assert expired is not None and isinstance(expired.event, LockExpired)
    assert expired.event == LockExpired(
        event_id=expired.event.event_id,
        owner="a",
        token=1,
        ttl_s=0.01,
        expires_at=lease.expires_at,
        capacity=3,
        decided_at=expired.event.decided_at,
        holders=(),
    )
    assert expired.event.decided_at is not None and expired.event.decided_at >= lease.expires_at


class LaggingClock(BackendClock):
    """A backend clock whose lower bound trails the log by an hour."""

    async def lower(self) -> datetime:
        return await self.store.now() - timedelta(hours=1)


async def test_a_decision_is_never_timed_before_the_locks_last_event(store: EventStore) -> None:
    leases = LeaseService(store, clock=LaggingClock(store))
    await leases.acquire(HUB, RESOURCE, "a", ttl=30, capacity=2)
    last = await store.last_event(HUB, STREAM)
    assert last is not None

    second = await leases.acquire(HUB, RESOURCE, "b", ttl=30, capacity=2)

    assert second is not None
    assert second.expires_at == last.recorded_at + timedelta(seconds=30)
    granted = await store.last_event(HUB, STREAM)
    assert granted is not None and isinstance(granted.event, LockGranted)
    assert granted.event.decided_at == last.recorded_at


class OutageOnAppend:
    """``store``, whose appends fail with BackendUnavailable ``failures``
    times before they reach it (everything else passes through)."""

    def __init__(self, store: EventStore, failures: int) -> None:
        self.store = store
        self.failures = failures

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def append(self, *args: Any, **kwargs: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise BackendUnavailable("append: connection reset (injected)")
        return await self.store.append(*args, **kwargs)


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loop, "APPEND_RETRY", RetryPolicy(initial=0.001, cap=0.001, deadline=0.2))


@pytest.mark.usefixtures("quick_retries")
async def test_an_append_that_fails_is_retried_with_the_same_events(store: EventStore) -> None:
    flaky: Any = OutageOnAppend(store, failures=2)
    lease = await LeaseService(flaky).acquire(HUB, RESOURCE, "a", ttl=30)

    assert lease is not None and lease.token == 1
    assert await store.stream_version(HUB, STREAM) == 1
    assert flaky.failures == 0


@pytest.mark.usefixtures("quick_retries")
async def test_an_outage_longer_than_the_retry_deadline_raises_the_backends_error(
    store: EventStore,
) -> None:
    flaky: Any = OutageOnAppend(store, failures=10**6)
    with pytest.raises(BackendUnavailable, match="connection reset"):
        await LeaseService(flaky).acquire(HUB, RESOURCE, "a", ttl=30)
    assert await store.stream_version(HUB, STREAM) == 0


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[float, float]]]:
    """The bounds of every random back-off drawn (each drawn as 0 s)."""
    drawn: list[tuple[float, float]] = []

    def uniform(a: float, b: float) -> float:
        drawn.append((a, b))
        return 0.0

    monkeypatch.setattr(random, "uniform", uniform)
    yield drawn


async def test_the_back_off_after_each_lost_race_doubles_up_to_its_cap(
    store: EventStore, backoffs: list[tuple[float, float]]
) -> None:
    leases = OutracedLeases(store, LeaseService(store), attempts=8)
    with pytest.raises(LeaseContention):
        await leases.acquire(HUB, RESOURCE, "loser", ttl=30, capacity=99)

    # Eight lost races, seven pauses: none after the last (the one decide loop's
    # rule; the error leaves at once).
    assert backoffs == [(0, 0.001 * 2**n) for n in range(6)] + [(0, 0.05)]


async def test_an_unreadable_event_inside_an_old_style_stream_is_refused_naming_the_lock(
    store: EventStore,
) -> None:
    now = await store.now()
    await store.append(HUB, STREAM, [LockGranted(owner="a", token=1, ttl_s=60,
                                                 expires_at=now + timedelta(seconds=60))])  # fmt: skip
    reader = store.codec
    store.codec = Codec([*CATALOGUE, LockAudited])  # a newer writer, then an old one
    try:
        await store.append(HUB, STREAM, [LockAudited(auditor="ops")])
    finally:
        store.codec = reader
    await store.append(HUB, STREAM, [LockReleased(owner="a", token=1)])

    with pytest.raises(LeaseUnreadable) as refused:
        await LeaseService(store).view(HUB, RESOURCE)
    assert (refused.value.hub_id, refused.value.resource_id) == (HUB, RESOURCE)
    assert str(refused.value) == (
        f"Unreadable lock event: LockAudited at version 2 (Hub: {HUB}, Resource: {RESOURCE})"
    )


async def test_in_an_old_style_stream_the_first_grant_fixes_the_capacity(
    store: EventStore,
) -> None:
    now = await store.now()
    until = now + timedelta(seconds=60)
    old = [
        LockGranted(owner="a", token=1, ttl_s=60, expires_at=until, capacity=2),
        LockGranted(owner="b", token=2, ttl_s=60, expires_at=until, capacity=5),
    ]
    for event in old:
        await store.append(HUB, STREAM, [event])

    view = await LeaseService(store).view(HUB, RESOURCE)

    assert view.capacity == 2
    assert view.holders == (
        LeaseHolder(owner="a", token=1, ttl_s=60, expires_at=until),
        LeaseHolder(owner="b", token=2, ttl_s=60, expires_at=until),
    )


async def test_in_a_mixed_stream_the_state_an_event_carries_wins_over_a_re_derivation(
    store: EventStore,
) -> None:
    # A grant decided while "a" was live but recorded after "a" ran out (a
    # slow append), then an old writer's release: the fold must take the
    # holders the grant recorded, so the next change records a's expiry.
    now = await store.now()
    ran_out = now - timedelta(seconds=1)
    a = LeaseHolder(owner="a", token=1, ttl_s=60, expires_at=ran_out)
    b = LeaseHolder(owner="b", token=2, ttl_s=60, expires_at=now + timedelta(seconds=60))
    decided = ran_out - timedelta(seconds=2)
    mixed = [
        LockGranted(owner="a", token=1, ttl_s=60, expires_at=ran_out, capacity=2,
                    decided_at=decided - timedelta(seconds=58), holders=(a,)),
        LockGranted(owner="b", token=2, ttl_s=60, expires_at=b.expires_at, capacity=2,
                    decided_at=decided, holders=(a, b)),
        LockReleased(owner="b", token=2),  # an old writer: no state carried
    ]  # fmt: skip
    for event in mixed:
        await store.append(HUB, STREAM, [event])

    leases = LeaseService(store)
    assert (await leases.view(HUB, RESOURCE)).holders == (a,)
    assert await leases.reap(HUB, RESOURCE) == 1
