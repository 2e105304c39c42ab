"""The leases glue: Gleitzeit 0.0.5's lock methods over the lease service.

Gleitzeit's hub persistence locks by ``(resource_id, owner_id)`` with no
token; this face keeps those signatures (so a hub's ``persistence=`` object
can offer them) while every call goes through :class:`LeaseService`: expiry
by the backend's clock, optimistic concurrency, fencing tokens in the log.
Release and extend look up the owner's own token and change only that lease
— never the get-then-delete that let a node delete its successor's lock.
"""

from __future__ import annotations

from collections.abc import Mapping

from eventstore.store import EventStore
from projections.leases import LeaseService


class HubLeases:
    """The lock half of the 0.0.5 persistence API for one hub.

    ``capacities`` gives a resource's capacity (an Ollama server's
    ``max_concurrent``); others are mutexes.  Raises what
    :class:`LeaseService` raises.
    """

    def __init__(
        self, store: EventStore, hub_id: str, *, capacities: Mapping[str, int] | None = None
    ) -> None:
        self.leases = LeaseService(store)
        self.hub_id = hub_id
        self.capacities = dict(capacities or {})

    async def acquire_lock(self, resource_id: str, owner_id: str, timeout: int = 30) -> bool:
        capacity = self.capacities.get(resource_id, 1)
        lease = await self.leases.acquire(
            self.hub_id, resource_id, owner_id, ttl=timeout, capacity=capacity
        )
        return lease is not None

    async def extend_lock(self, resource_id: str, owner_id: str, timeout: int = 30) -> bool:
        token = await self._token(resource_id, owner_id)
        if token is None:
            return False
        renewed = await self.leases.renew(self.hub_id, resource_id, owner_id, token, ttl=timeout)
        return renewed is not None

    async def release_lock(self, resource_id: str, owner_id: str) -> None:
        token = await self._token(resource_id, owner_id)
        if token is not None:
            await self.leases.release(self.hub_id, resource_id, owner_id, token)

    async def get_lock_owner(self, resource_id: str) -> str | None:
        """The holder with the newest lease (the only one, for a mutex)."""
        holders = await self.leases.holders(self.hub_id, resource_id)
        return max(holders, key=lambda h: h.token).owner if holders else None

    async def _token(self, resource_id: str, owner_id: str) -> int | None:
        mine = [
            h.token
            for h in await self.leases.holders(self.hub_id, resource_id)
            if h.owner == owner_id
        ]
        return max(mine) if mine else None
