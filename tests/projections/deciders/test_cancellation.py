"""A caller cancelled at any await leaves nothing held that it did not get.

Every store call the write side makes is an await where its caller may be
cancelled.  ``Cancelling`` wraps a real store and cancels the caller at its
k-th call — before the call (``before``), or after the call did its work
and before the caller heard back (``after``: a commit whose reply is lost
to a cancellation) — for k = 1, 2, … until the command completes with no
cancellation left to make.  After each run the log must say that the
caller holds exactly what it was handed: a lease it got, or none; no place
left in the queue; an instance stream changed whole or not at all.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import pytest

from eventstore import (
    HealthChanged,
    InstanceRegistered,
    ResourceStatus,
    ResourceType,
    streams,
)
from eventstore.store import EventStore
from projections import InstanceState
from projections.deciders import instances
from projections.deciders.leases import Lease, LeaseService
from projections.deciders.queue import Candidate, QueueService, Reservation, ReservationTimeout
from tests.backends import Backend
from tests.projections.deciders.queue.test_service import candidate

pytestmark = pytest.mark.anyio
HUB = "cancel"
LIMIT = 30
MODES = ("before", "after")
READS = ("read_stream", "read_log")
"""Async generators; ``subscribe`` (which never ends) is left uncounted."""


class Cancelling:
    """``store`` with its caller's scope cancelled at the ``at``-th awaited call."""

    def __init__(self, store: EventStore, at: int, mode: str, scope: anyio.CancelScope) -> None:
        self.store, self.at, self.mode, self.scope = store, at, mode, scope
        self.calls = 0
        self.fired = False

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.store, name)
        if name in READS:
            return self._reading(attribute)
        if not inspect.iscoroutinefunction(attribute):
            return attribute

        async def call(*args: Any, **kwargs: Any) -> Any:
            if not self._due():
                return await attribute(*args, **kwargs)
            if self.mode == "before":
                self.scope.cancel()
                return await attribute(*args, **kwargs)
            result = await attribute(*args, **kwargs)
            self.scope.cancel()
            await anyio.lowlevel.checkpoint()  # the reply, lost to the cancellation
            return result

        return call

    def _reading(self, read: Callable[..., AsyncIterator[Any]]) -> Any:
        """A read of a stream or log: one await, cancelled before it starts
        or once every page has arrived."""

        async def pages(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            if not self._due():
                async for item in read(*args, **kwargs):
                    yield item
                return
            if self.mode == "before":
                self.scope.cancel()
            items = [item async for item in read(*args, **kwargs)]
            self.scope.cancel()
            await anyio.lowlevel.checkpoint()
            for item in items:
                yield item

        return pages

    def _due(self) -> bool:
        self.calls += 1
        self.fired = self.fired or self.calls == self.at
        return self.calls == self.at


Command = Callable[[Any, str], Awaitable[Any]]
"""The command under test, on a store (the wrapper) and a fresh entity id."""
Check = Callable[[str, Any], Awaitable[None]]
"""What the log must say afterwards, given the entity id and what the caller got."""


async def cancel_at_every_await(
    command: Command, check: Check, store: EventStore, *, least: int = 3
) -> int:
    """Run ``command`` cancelled at each of its awaits in turn, in both
    modes; ``check`` after each run.  Returns how many awaits it has."""
    awaits = 0
    for mode in MODES:
        at = 1
        while True:
            entity = f"{mode}-{at}"
            got = None
            with anyio.CancelScope() as scope:
                wrapper = Cancelling(store, at, mode, scope)
                got = await command(wrapper, entity)
            await check(entity, got)
            if not wrapper.fired:
                awaits = max(awaits, wrapper.calls)
                break
            at += 1
    assert awaits >= least  # the command's reads and its append at least
    return awaits


async def test_a_cancelled_acquire_holds_the_lease_it_returned_or_none(
    store: EventStore, backend: Backend
) -> None:
    async def acquire(wrapper: Any, resource: str) -> Lease | None:
        return await LeaseService(wrapper).acquire(HUB, resource, "me", ttl=LIMIT, capacity=2)

    async def check(resource: str, got: Lease | None) -> None:
        holders = await LeaseService(store).holders(HUB, resource)
        assert [h.token for h in holders] == ([got.token] if got is not None else [])

    with anyio.fail_after(LIMIT):
        await cancel_at_every_await(acquire, check, store)


async def test_a_cancelled_release_leaves_the_lease_released_or_held(
    store: EventStore, backend: Backend
) -> None:
    async def release(wrapper: Any, resource: str) -> bool | None:
        lease = await LeaseService(store).acquire(HUB, resource, "me", ttl=LIMIT)
        assert lease is not None
        return await LeaseService(wrapper).release(HUB, resource, "me", lease.token)

    async def check(resource: str, released: bool | None) -> None:
        holders = await LeaseService(store).holders(HUB, resource)
        if released:
            assert holders == ()
        assert len(holders) <= 1  # a cancelled release may or may not have landed

    with anyio.fail_after(LIMIT):
        await cancel_at_every_await(release, check, store)


def reserve_on(pool: list[Candidate], *, wait: float) -> Command:
    async def reserve(wrapper: Any, owner: str) -> Reservation | None:
        service = QueueService(wrapper, heartbeat=LIMIT, recheck=0.05)

        async def instances_of(hub_id: str) -> list[Candidate]:
            return pool

        try:
            return await service.reserve(
                HUB, requirements=None, owner_id=owner, ttl=LIMIT, wait=wait, pool=instances_of
            )
        except ReservationTimeout:
            return None

    return reserve


def reservation_check(store: EventStore) -> Check:
    async def check(owner: str, got: Reservation | None) -> None:
        service = QueueService(store)
        held = [h for h in await service.leases.holders(HUB, "a") if h.owner == owner]
        assert [h.token for h in held] == ([got.token] if got is not None else [])
        assert [w for w in (await service.view(HUB)).waiting if w.owner == owner] == []
        if got is not None:  # the next run starts with the slot free
            await service.leases.release(HUB, "a", owner, got.token)

    return check


async def test_a_cancelled_reserve_holds_the_slot_it_returned_or_none(
    store: EventStore, backend: Backend
) -> None:
    with anyio.fail_after(LIMIT):
        await cancel_at_every_await(
            reserve_on([candidate("a")], wait=0), reservation_check(store), store
        )


async def test_a_cancelled_waiting_reserve_holds_the_slot_it_returned_or_none(
    store: EventStore, backend: Backend
) -> None:
    """A waiter: the slot is held by another owner until the waiter has
    joined the queue, then freed, so the grant happens while it waits."""
    leases = LeaseService(store)

    async def reserve_after_waiting(wrapper: Any, owner: str) -> Reservation | None:
        blocker = await leases.acquire(HUB, "a", "blocker", ttl=LIMIT)
        assert blocker is not None
        async with anyio.create_task_group() as tg:

            async def free_the_slot_once_queued() -> None:
                while not (await QueueService(store).view(HUB)).waiting:
                    await anyio.sleep(0.005)
                await leases.release(HUB, "a", "blocker", blocker.token)

            tg.start_soon(free_the_slot_once_queued)
            try:
                return await reserve_on([candidate("a")], wait=5)(wrapper, owner)
            finally:
                with anyio.CancelScope(shield=True):
                    await leases.release(HUB, "a", "blocker", blocker.token)
                    tg.cancel_scope.cancel()

    with anyio.fail_after(LIMIT * 4):
        await cancel_at_every_await(reserve_after_waiting, reservation_check(store), store)


async def test_a_cancelled_instance_save_changes_the_stream_whole_or_not_at_all(
    store: EventStore, backend: Backend
) -> None:
    async def save(wrapper: Any, instance_id: str) -> int:
        registered = InstanceRegistered(
            name=instance_id, resource_type=ResourceType.OLLAMA, endpoint="http://x"
        )
        await store.append(HUB, streams.instance(instance_id), [registered])

        change = [  # new event ids for each instance: a retry of one call reuses them
            HealthChanged(from_status=ResourceStatus.UNKNOWN, to_status=ResourceStatus.HEALTHY),
            HealthChanged(from_status=ResourceStatus.HEALTHY, to_status=ResourceStatus.DEGRADED),
        ]

        def decide(state: InstanceState | None) -> list[Any]:
            return change if state is not None and state.registered else []

        return await instances.change(wrapper, HUB, instance_id, decide)

    async def check(instance_id: str, appended: int | None) -> None:
        types = [e.type async for e in store.read_stream(HUB, streams.instance(instance_id))]
        assert types in (["InstanceRegistered"], ["InstanceRegistered", *["HealthChanged"] * 2])
        if appended:
            assert len(types) == 3

    with anyio.fail_after(LIMIT):
        await cancel_at_every_await(save, check, store, least=2)
