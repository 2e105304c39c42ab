"""The lease service's edges that its round trips do not reach: the fold of
a lock stream written before lock events carried their state, in full; the
errors' fields; a renewal's new ttl; the correlation id on every change;
``check_token`` judged by the upper bound of the backend's clock.

The code under test is the service's and the rules', the same over every
backend: these run on the memory store (the round trips run on all).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eventstore import CATALOGUE, Codec, Event, EventStore, streams
from eventstore.events import LockGranted, LockReleased, LockRenewed
from projections.deciders.leases import (
    BackendClock,
    CapacityMismatch,
    InvalidLeaseRequest,
    LeaseContention,
    LeaseService,
    LeaseUnreadable,
    LeaseView,
    rules,
)
from projections.deciders.leases.rules import LeaseHolder
from tests.backends import Backend

on_memory = pytest.mark.parametrize("backend", [Backend("memory")], ids=["memory"])

HUB, RESOURCE = "pool", "ollama-1"
STREAM = streams.lease(RESOURCE)


class LockAudited(Event, frozen=True, kw_only=True):
    """A lock event only a newer hublog knows."""

    category = "lock"
    auditor: str


async def old_style_stream(store: EventStore) -> datetime:
    """Lock events as written before they carried their state; ``now``."""
    now = await store.now()
    old = [
        LockGranted(owner="a", token=1, ttl_s=60, expires_at=now + timedelta(seconds=60), capacity=2),
        LockGranted(owner="b", token=2, ttl_s=60, expires_at=now + timedelta(seconds=60), capacity=2),
        LockRenewed(owner="a", token=1, ttl_s=90, expires_at=now + timedelta(seconds=90)),
        LockReleased(owner="b", token=2),
    ]  # fmt: skip
    for event in old:
        await store.append(HUB, STREAM, [event])
    return now


@pytest.mark.anyio
@on_memory
async def test_an_old_style_lock_stream_folds_to_its_full_state(store: EventStore) -> None:
    now = await old_style_stream(store)
    history = [e async for e in store.read_stream(HUB, STREAM)]

    assert rules.fold(HUB, RESOURCE, history) == LeaseView(
        hub_id=HUB,
        resource_id=RESOURCE,
        version=4,
        capacity=2,  # fixed by the first grant, kept through the renewal and release
        holders=(
            LeaseHolder(owner="a", token=1, ttl_s=90, expires_at=now + timedelta(seconds=90)),
        ),
        changed_at=history[-1].recorded_at,
    )


@pytest.mark.anyio
@on_memory
async def test_the_capacity_an_old_style_stream_fixed_is_held_against_a_new_grant(
    store: EventStore,
) -> None:
    await old_style_stream(store)

    with pytest.raises(CapacityMismatch) as refused:
        await LeaseService(store).acquire(HUB, RESOURCE, "c", ttl=30, capacity=3)

    error = refused.value
    assert (error.hub_id, error.resource_id, error.fixed, error.asked) == (HUB, RESOURCE, 2, 3)
    assert str(error) == (
        f"Wrong lease capacity: 3 (Hub: {HUB}, Resource: {RESOURCE}, Fixed: 2, Asked: 3)"
    )


@pytest.mark.anyio
@on_memory
async def test_a_stream_mixing_old_and_new_events_folds_to_the_last_ones_state(
    store: EventStore,
) -> None:
    await old_style_stream(store)
    lease = await LeaseService(store).acquire(HUB, RESOURCE, "c", ttl=30, capacity=2)
    history = [e async for e in store.read_stream(HUB, STREAM)]

    folded = rules.fold(HUB, RESOURCE, history)

    assert lease is not None and folded == rules.view_after(HUB, RESOURCE, history[-1])
    assert (folded.hub_id, folded.resource_id, folded.version) == (HUB, RESOURCE, 5)
    assert (folded.capacity, folded.changed_at) == (2, history[-1].recorded_at)
    assert [(h.owner, h.token) for h in folded.holders] == [("a", 1), ("c", lease.token)]


@pytest.mark.anyio
@on_memory
async def test_a_lock_whose_last_event_this_code_cannot_read_is_refused_naming_it(
    store: EventStore,
) -> None:
    leases = LeaseService(store)
    await leases.acquire(HUB, RESOURCE, "a", ttl=30, capacity=1)
    reader = store.codec
    store.codec = Codec([*CATALOGUE, LockAudited])  # a newer writer
    try:
        await store.append(HUB, STREAM, [LockAudited(auditor="ops")])
    finally:
        store.codec = reader

    with pytest.raises(LeaseUnreadable) as refused:
        await leases.acquire(HUB, RESOURCE, "b", ttl=30, capacity=1)

    error = refused.value
    assert (error.hub_id, error.resource_id) == (HUB, RESOURCE)
    assert str(error) == (
        f"Unreadable lock event: LockAudited at version 2 (Hub: {HUB}, Resource: {RESOURCE})"
    )
    assert await store.stream_version(HUB, STREAM) == 2  # nothing written on a guess


class OutracedLeases(LeaseService):
    """A lease service that a rival beats to the lock between every read
    and the append that follows it."""

    def __init__(self, store: EventStore, rival: LeaseService, **kwargs: Any) -> None:
        super().__init__(store, **kwargs)
        self.rival = rival

    async def _lower(self, view: LeaseView) -> datetime:
        await self.rival.reap(HUB, RESOURCE)  # nothing to reap: the cheapest real write
        await self.rival.acquire(HUB, RESOURCE, f"rival-{view.version}", ttl=30, capacity=99)
        return await super()._lower(view)


@pytest.mark.anyio
@on_memory
async def test_every_race_lost_is_lease_contention_naming_the_lock_and_the_attempts(
    store: EventStore,
) -> None:
    leases = OutracedLeases(store, LeaseService(store), attempts=3)

    with pytest.raises(LeaseContention) as lost:
        await leases.acquire(HUB, RESOURCE, "loser", ttl=30, capacity=99)

    error = lost.value
    assert (error.hub_id, error.resource_id, error.attempts) == (HUB, RESOURCE, 3)
    assert str(error) == (
        f"Lease contention: 3 attempts lost to other writers (Hub: {HUB}, Resource: {RESOURCE})"
    )
    holders = await LeaseService(store).holders(HUB, RESOURCE)
    assert [h.owner for h in holders] == ["rival-0", "rival-1", "rival-2"]


@pytest.mark.anyio
@on_memory
async def test_a_renewal_records_its_new_ttl(store: EventStore) -> None:
    leases = LeaseService(store)
    lease = await leases.acquire(HUB, RESOURCE, "a", ttl=30, capacity=1)
    assert lease is not None

    renewed = await leases.renew(HUB, RESOURCE, "a", lease.token, ttl=45)

    assert renewed is not None and renewed.ttl_s == 45
    [holder] = (await leases.view(HUB, RESOURCE)).holders
    assert holder.ttl_s == 45 and holder.expires_at == renewed.expires_at


@pytest.mark.anyio
@on_memory
async def test_renewals_and_expiries_carry_the_callers_correlation_id(store: EventStore) -> None:
    leases = LeaseService(store)
    lease = await leases.acquire(HUB, RESOURCE, "a", ttl=0.05, capacity=1)
    assert lease is not None
    await leases.renew(HUB, RESOURCE, "a", lease.token, ttl=0.05, correlation_id="renewal-1")
    expires = (await leases.view(HUB, RESOURCE)).holders[0].expires_at
    while await store.now() <= expires:
        pass  # the memory store's clock: a few milliseconds

    assert await leases.reap(HUB, RESOURCE, correlation_id="reap-1") == 1

    written = [(e.type, e.correlation_id) async for e in store.read_stream(HUB, STREAM)]
    assert written[1:] == [("LockRenewed", "renewal-1"), ("LockExpired", "reap-1")]


def test_a_lease_cannot_be_renewed_at_the_instant_it_expires() -> None:
    at = datetime(2026, 12, 4, 12, 0, tzinfo=datetime.now().astimezone().tzinfo)
    holder = LeaseHolder(owner="a", token=1, ttl_s=30, expires_at=at)
    view = LeaseView(hub_id=HUB, resource_id=RESOURCE, version=1, capacity=1, holders=(holder,))

    assert rules.renew(view, "a", 1, 30.0, at) is None
    assert rules.renew(view, "a", 1, 30.0, at - timedelta(microseconds=1)) is not None


def test_reaping_a_lock_with_nothing_run_out_is_no_change() -> None:
    at = datetime(2026, 12, 4, 12, 0, tzinfo=datetime.now().astimezone().tzinfo)
    holder = LeaseHolder(owner="a", token=1, ttl_s=30, expires_at=at + timedelta(seconds=1))
    view = LeaseView(hub_id=HUB, resource_id=RESOURCE, version=1, capacity=1, holders=(holder,))

    assert rules.reap(view, at) is None


class SlowClock(BackendClock):
    """A backend clock known only within a wide window: [now, now + 10 s]."""

    async def lower(self) -> datetime:
        return await self.store.now()

    async def upper(self) -> datetime:
        return await self.store.now() + timedelta(seconds=10)


@pytest.mark.anyio
@on_memory
async def test_check_token_refuses_a_lease_that_may_have_run_out_by_the_clocks_upper_bound(
    store: EventStore,
) -> None:
    leases = LeaseService(store, clock=SlowClock(store))
    short = await leases.acquire(HUB, RESOURCE, "a", ttl=5, capacity=2)
    long = await leases.acquire(HUB, RESOURCE, "b", ttl=60, capacity=2)
    assert short is not None and long is not None

    # Held by the lower bound, but perhaps over by the upper one: a stale holder.
    assert [h.owner for h in await leases.holders(HUB, RESOURCE)] == ["a", "b"]
    assert await leases.check_token(HUB, RESOURCE, short.token) is False
    assert await leases.check_token(HUB, RESOURCE, long.token) is True


@pytest.mark.anyio
@on_memory
async def test_a_release_records_the_lease_it_ends_and_the_callers_correlation_id(
    store: EventStore,
) -> None:
    leases = LeaseService(store)
    lease = await leases.acquire(HUB, RESOURCE, "a", ttl=30, capacity=1)
    assert lease is not None

    assert await leases.release(HUB, RESOURCE, "a", lease.token, correlation_id="done-1")

    last = await store.last_event(HUB, STREAM)
    assert last is not None and last.correlation_id == "done-1"
    released = last.event
    assert isinstance(released, LockReleased)
    assert (released.ttl_s, released.expires_at) == (30, lease.expires_at)


def test_a_lease_cannot_be_released_at_the_instant_it_expires() -> None:
    at = datetime(2026, 12, 4, 12, 0, tzinfo=datetime.now().astimezone().tzinfo)
    holder = LeaseHolder(owner="a", token=1, ttl_s=30, expires_at=at)
    view = LeaseView(hub_id=HUB, resource_id=RESOURCE, version=1, capacity=1, holders=(holder,))

    assert rules.release(view, "a", 1, at) is None
    assert rules.release(view, "a", 1, at - timedelta(microseconds=1)) is not None


@pytest.mark.anyio
@on_memory
@pytest.mark.parametrize("token", ["1", True, 0, 1.0])
async def test_a_token_that_is_not_a_positive_int_is_refused_naming_it(
    store: EventStore, token: object
) -> None:
    leases = LeaseService(store)
    for call in (
        leases.renew(HUB, RESOURCE, "a", token, ttl=30),  # type: ignore[arg-type]
        leases.release(HUB, RESOURCE, "a", token),  # type: ignore[arg-type]
        leases.check_token(HUB, RESOURCE, token),  # type: ignore[arg-type]
    ):
        with pytest.raises(InvalidLeaseRequest) as refused:
            await call
        assert str(refused.value) == f"token must be an int >= 1, got {token!r}"


def test_renewing_one_lease_of_a_semaphore_leaves_the_other_holders_as_they_were() -> None:
    at = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    mine = LeaseHolder(owner="a", token=1, ttl_s=30, expires_at=at + timedelta(seconds=5))
    other = LeaseHolder(owner="b", token=2, ttl_s=20, expires_at=at + timedelta(seconds=9))
    view = LeaseView(hub_id=HUB, resource_id=RESOURCE, version=2, capacity=2, holders=(mine, other))

    change = rules.renew(view, "a", 1, 60.0, at)

    assert change is not None
    (renewed,) = change.events
    assert isinstance(renewed, LockRenewed)
    assert renewed.holders == (
        LeaseHolder(owner="a", token=1, ttl_s=60.0, expires_at=at + timedelta(seconds=60)),
        other,
    )
