"""Gleitzeit's locks on the lease service, and the seed's ``get_instance``
with locking — a reservation with ``wait=0`` (``docs/queue.md``), so a caller
that does not wait never takes a slot from the hub's queue.

A lock on a registered instance lives in that instance's hub (its lease
events then sit in the hub's log and summary) with the instance's capacity
(an Ollama server's ``max_concurrent``); a lock on any other resource id
lives in the adapter's ``lock_hub`` as a mutex.  Release, extend and owner
look in both places, so a resource registered after its lock was taken is
still found.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from eventstore.values import OllamaConfig
from projections import InstanceState

from .leases import HubLeases

DEFAULT_TRIES = 3


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


def leases_for(store: Any, hub_id: str, resource_id: str, capacity: int) -> HubLeases:
    return HubLeases(store, hub_id, capacities={resource_id: capacity})
