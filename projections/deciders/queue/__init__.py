"""The reservation queue: a persisted, fair (FIFO) queue of requests waiting
for a lease slot on a hub's instances — events on the hub's ``queue/reserve``
stream, each carrying the queue after it.  See ``docs/queue.md``.

    queue = QueueService(store)
    reservation = await queue.reserve(
        "pool", requirements={"models": ["llama3"]}, owner_id="node-a", ttl=30,
        wait=10, pool=instances_of,
    )
    ...  # use reservation.instance_id with reservation.token; then
    await queue.leases.release("pool", reservation.instance_id, "node-a", reservation.token)

What the hub reports about the queue (depth, waits) is the read side,
:mod:`projections.queue`.
"""

from __future__ import annotations

from .errors import (
    InvalidReservation,
    QueueContention,
    QueueError,
    QueueUnreadable,
    ReservationTimeout,
)
from .match import matches, requirements_of
from .service import QueueService
from .state import Candidate, QueuedRequest, QueueView, Requirements, Reservation

__all__ = [
    "Candidate",
    "InvalidReservation",
    "QueueContention",
    "QueueError",
    "QueueService",
    "QueueUnreadable",
    "QueueView",
    "QueuedRequest",
    "Requirements",
    "Reservation",
    "ReservationTimeout",
    "matches",
    "requirements_of",
]
