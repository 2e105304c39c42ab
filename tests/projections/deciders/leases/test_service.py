"""The lease service on every backend: counting, fenced, refusals that write
nothing, expiry recorded by the next toucher, capacity fixed by the first
grant, and lock streams written before lock events carried their state."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest

from eventstore import EventStore, streams
from eventstore.events import LockExpired, LockGranted, LockReleased, LockRenewed
from projections import HubProjection, fold
from projections.deciders.leases import CapacityMismatch, InvalidLeaseRequest, LeaseService

pytestmark = pytest.mark.anyio

HUB = "pool"


async def version(store: EventStore, resource: str = "ollama-1") -> int:
    return await store.stream_version(HUB, streams.lease(resource))


async def test_a_counting_lease_grants_capacity_slots_with_rising_tokens(
    store: EventStore,
) -> None:
    leases = LeaseService(store)
    got = [await leases.acquire(HUB, "ollama-1", f"node-{n}", ttl=30, capacity=3) for n in "abcd"]
    assert [lease.token if lease else None for lease in got] == [1, 2, 3, None]
    assert [lease.slots_left for lease in got if lease] == [2, 1, 0]
    assert [h.owner for h in await leases.holders(HUB, "ollama-1")] == [
        "node-a",
        "node-b",
        "node-c",
    ]

    assert got[1] is not None and await leases.release(HUB, "ollama-1", "node-b", got[1].token)
    again = await leases.acquire(HUB, "ollama-1", "node-d", ttl=30, capacity=3)
    assert again is not None and again.token == 5 == await version(store)
    assert await leases.check_token(HUB, "ollama-1", 5)
    assert not await leases.check_token(HUB, "ollama-1", 2)


async def test_refused_renewals_and_releases_write_nothing(store: EventStore) -> None:
    leases = LeaseService(store)
    lease = await leases.acquire(HUB, "ollama-1", "node-a", ttl=30)
    assert lease is not None
    assert await leases.renew(HUB, "ollama-1", "node-b", lease.token, ttl=30) is None  # not its
    assert await leases.renew(HUB, "ollama-1", "node-a", lease.token + 1, ttl=30) is None
    assert not await leases.release(HUB, "ollama-1", "node-b", lease.token)
    assert not await leases.release(HUB, "never-held", "node-a", 1)
    assert await version(store) == 1

    renewed = await leases.renew(HUB, "ollama-1", "node-a", lease.token, ttl=60)
    assert renewed is not None and renewed.expires_at > lease.expires_at
    assert renewed.token == lease.token and await version(store) == 2


async def test_an_expired_lease_is_recorded_by_the_next_toucher_and_cannot_be_renewed(
    store: EventStore,
) -> None:
    leases = LeaseService(store)
    old = await leases.acquire(HUB, "ollama-1", "node-a", ttl=0.05)
    assert old is not None
    with anyio.fail_after(10):
        while await leases.holders(HUB, "ollama-1"):
            await anyio.sleep(0.02)
    assert await leases.renew(HUB, "ollama-1", "node-a", old.token, ttl=30) is None
    assert not await leases.release(HUB, "ollama-1", "node-a", old.token)
    assert not await leases.check_token(HUB, "ollama-1", old.token)
    assert await version(store) == 1  # refusals write nothing, not even the expiry

    new = await leases.acquire(HUB, "ollama-1", "node-b", ttl=30)
    assert new is not None and new.token == 3  # after the LockExpired in its batch
    events = [e async for e in store.read_stream(HUB, streams.lease("ollama-1"))]
    assert [e.type for e in events] == ["LockGranted", "LockExpired", "LockGranted"]
    expired = events[1].event
    assert isinstance(expired, LockExpired) and (expired.owner, expired.token) == ("node-a", 1)
    assert expired.holders == () and events[2].event.holders[0].owner == "node-b"  # type: ignore[union-attr]
    assert fold(HubProjection(), events).meta.anomaly_counts == {}


async def test_the_first_grant_fixes_the_capacity(store: EventStore) -> None:
    leases = LeaseService(store)
    assert await leases.acquire(HUB, "ollama-1", "node-a", ttl=30, capacity=4)
    with pytest.raises(CapacityMismatch, match="Fixed: 4, Asked: 1"):
        await leases.acquire(HUB, "ollama-1", "node-b", ttl=30)
    assert await version(store) == 1


@pytest.mark.parametrize(
    "kwargs", [{"ttl": 0}, {"ttl": float("nan")}, {"ttl": 1, "capacity": 0}, {"ttl": True}]
)
async def test_impossible_arguments_are_refused(store: EventStore, kwargs: dict) -> None:
    with pytest.raises(InvalidLeaseRequest):
        await LeaseService(store).acquire(HUB, "ollama-1", "node-a", **kwargs)


async def test_a_lock_stream_written_before_holders_after_is_folded_once(
    store: EventStore,
) -> None:
    # The shape of lock events before they carried their state (no holders,
    # no decided_at), as older hublog and the demo wrote them.
    stream, now = streams.lease("ollama-1"), await store.now()
    old = [
        LockGranted(owner="a", token=1, ttl_s=60, expires_at=now + timedelta(seconds=60), capacity=2),
        LockGranted(owner="b", token=2, ttl_s=60, expires_at=now - timedelta(seconds=1), capacity=2),
        LockRenewed(owner="a", token=1, ttl_s=90, expires_at=now + timedelta(seconds=90)),
        LockGranted(owner="c", token=4, ttl_s=60, expires_at=now + timedelta(seconds=60), capacity=2),
        LockReleased(owner="c", token=4),
    ]  # fmt: skip
    for event in old:
        await store.append(HUB, stream, [event])
    leases = LeaseService(store)
    assert [(h.owner, h.token) for h in await leases.holders(HUB, "ollama-1")] == [("a", 1)]
    lease = await leases.acquire(HUB, "ollama-1", "d", ttl=30, capacity=2)
    # b ran out before c was granted, so the old fold dropped it then
    assert lease is not None and lease.token == 6
    last = await store.last_event(HUB, stream)
    assert last is not None and [h.owner for h in last.event.holders] == ["a", "d"]  # type: ignore[union-attr]
