"""Gleitzeit's locks on the lease service, and the seed's ``get_instance``
with locking.

Gleitzeit 0.0.5's hub persistence locks by ``(resource_id, owner_id)`` with
no token; :class:`HubLeases` keeps those signatures (so a hub's
``persistence=`` object can offer them) while every call goes through
:class:`LeaseService`: expiry by the backend's clock, optimistic
concurrency, fencing tokens in the log.  Release and extend look up the
owner's own token and change only that lease — never the get-then-delete
that let a node delete its successor's lock.

A lock on a registered instance lives in that instance's hub (its lease
events then sit in the hub's log and summary) with the instance's capacity
(an Ollama server's ``max_concurrent``); a lock on any other resource id
lives in the adapter's ``lock_hub`` as a mutex.  ``get_instance`` takes an
instance by a reservation with ``wait=0`` (``docs/queue.md``), so a caller
that does not wait never takes a slot from the hub's queue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from eventstore.store import EventStore
from eventstore.values import OllamaConfig
from projections import InstanceState
from projections.deciders.leases import LeaseService

DEFAULT_TRIES = 3


class HubLeases:
    """The lock half of the 0.0.5 persistence API for one hub.

    ``capacities`` gives a resource's capacity (an Ollama server's
    ``max_concurrent``); others are mutexes.  ``leases`` is the service to
    use (one per adapter keeps one calibrated clock: no clock read per
    call).  Each call is one read and at most one conditional append.
    Raises what :class:`LeaseService` raises.
    """

    def __init__(
        self,
        store: EventStore,
        hub_id: str,
        *,
        capacities: Mapping[str, int] | None = None,
        leases: LeaseService | None = None,
    ) -> None:
        self.leases = leases or LeaseService(store)
        self.hub_id = hub_id
        self.capacities = dict(capacities or {})

    async def acquire_lock(self, resource_id: str, owner_id: str, timeout: int = 30) -> bool:
        capacity = self.capacities.get(resource_id, 1)
        lease = await self.leases.acquire(
            self.hub_id, resource_id, owner_id, ttl=timeout, capacity=capacity
        )
        return lease is not None

    async def extend_lock(self, resource_id: str, owner_id: str, timeout: int = 30) -> bool:
        renewed = await self.leases.renew_newest(self.hub_id, resource_id, owner_id, ttl=timeout)
        return renewed is not None

    async def release_lock(self, resource_id: str, owner_id: str) -> bool:
        """True when a lease of ``owner_id`` was given back."""
        return await self.leases.release_newest(self.hub_id, resource_id, owner_id)

    async def get_lock_owner(self, resource_id: str) -> str | None:
        """The holder with the newest lease (the only one, for a mutex)."""
        holders = await self.leases.holders(self.hub_id, resource_id)
        return max(holders, key=lambda h: h.token).owner if holders else None


def capacity_of(instance: InstanceState | None) -> int:
    """How many holders a lease on the instance admits (1 unless known)."""
    if instance is not None and isinstance(instance.config, OllamaConfig):
        return max(1, instance.config.max_concurrent)
    return 1


class Locks(Protocol):
    async def acquire_lock(self, resource_id: str, owner_id: str, timeout: int = 30) -> bool: ...

    async def release_lock(self, resource_id: str, owner_id: str) -> None: ...


class Reserves(Protocol):
    async def reserve_instance(self, instance_id: str, owner_id: str, *, ttl: float) -> bool: ...


async def get_instance(
    persistence: Locks | Reserves,
    candidates: Iterable[Any],
    owner_id: str,
    *,
    timeout: int = 30,
    max_tries: int = DEFAULT_TRIES,
) -> Any | None:
    """The first available candidate whose lease has a free slot, leased to
    ``owner_id`` for ``timeout`` seconds; None when ``max_tries`` candidates
    were refused or none is available.

    ``candidates`` are Gleitzeit ``ResourceInstance`` objects (``hub.instances
    .values()``) or ``list_instances`` dicts; available means healthy or
    degraded, and the least loaded (``metrics.active_connections``) is
    tried first.  No instance is tried twice in one call.  Each try is a
    reservation of that instance with ``wait=0`` when ``persistence`` offers
    one (``reserve_instance``: refused while older waiters of the hub's
    queue could use it), else ``acquire_lock``.  Release with
    ``persistence.release_lock(instance.id, owner_id)``.

    Raises: what ``reserve_instance`` / ``acquire_lock`` raise.
    """
    tried: set[str] = set()
    for candidate in sorted(_available(candidates), key=_load):
        ident = _field(candidate, "id")
        if ident in tried or len(tried) >= max_tries:
            continue
        tried.add(ident)
        if await _take(persistence, ident, owner_id, timeout):
            return candidate
    return None


async def _take(persistence: Locks | Reserves, ident: str, owner_id: str, timeout: int) -> bool:
    if hasattr(persistence, "reserve_instance"):
        return await persistence.reserve_instance(ident, owner_id, ttl=timeout)
    assert hasattr(persistence, "acquire_lock")
    return await persistence.acquire_lock(ident, owner_id, timeout)


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def _available(candidates: Iterable[Any]) -> list[Any]:
    return [c for c in candidates if _status(c) in ("healthy", "degraded")]


def _status(candidate: Any) -> Any:
    status = _field(candidate, "status")
    return getattr(status, "value", status)


def _load(candidate: Any) -> int:
    metrics = _field(candidate, "metrics")
    return int(_field(metrics, "active_connections") or 0) if metrics is not None else 0


def leases_for(
    store: EventStore,
    hub_id: str,
    resource_id: str,
    capacity: int,
    leases: LeaseService | None = None,
) -> HubLeases:
    return HubLeases(store, hub_id, capacities={resource_id: capacity}, leases=leases)
