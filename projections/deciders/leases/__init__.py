"""Leases: counting (capacity N), fenced (token = the lock stream's version at
the grant) and auditable (every grant, renewal, release and expiry an event
that carries the lock's state after it) — on every backend, over the store
contract alone.  See ``docs/leases.md``.

    leases = LeaseService(store)
    lease = await leases.acquire("pool", "ollama-1", "node-a", ttl=30, capacity=4)
    if lease is not None:
        ...  # hand lease.token to the resource; renew before lease.expires_at
        await leases.release("pool", "ollama-1", "node-a", lease.token)
"""

from __future__ import annotations

from ..clock import BackendClock
from .errors import (
    CapacityMismatch,
    InvalidLeaseRequest,
    LeaseContention,
    LeaseError,
    LeaseUnreadable,
)
from .rules import Change, Lease, LeaseView
from .service import LeaseService

__all__ = [
    "BackendClock",
    "CapacityMismatch",
    "Change",
    "InvalidLeaseRequest",
    "Lease",
    "LeaseContention",
    "LeaseError",
    "LeaseService",
    "LeaseUnreadable",
    "LeaseView",
]
