"""The queue's state types: what one decision reads, what a caller gets back."""

from __future__ import annotations

from datetime import datetime

import msgspec

from eventstore.events import QueuedRequest, Requirements
from projections.deciders.leases import Lease
from projections.hub.state import InstanceState


class QueueView(msgspec.Struct, frozen=True, kw_only=True):
    """A hub's reservation queue as of its stream's last event."""

    hub_id: str
    version: int = 0
    """The queue stream's version: what a change is appended expecting."""
    waiting: tuple[QueuedRequest, ...] = ()
    """Oldest first; some may have stopped their heartbeat by now."""
    changed_at: datetime | None = None
    """``recorded_at`` of the last event: a lower bound of the backend's clock."""

    def live(self, at: datetime) -> tuple[QueuedRequest, ...]:
        return tuple(w for w in self.waiting if w.expires_at > at)

    def find(self, request_id: str) -> QueuedRequest | None:
        return next((w for w in self.waiting if w.request_id == request_id), None)

    def ahead_of(self, request_id: str | None, at: datetime) -> tuple[QueuedRequest, ...]:
        """The live waiters older than ``request_id`` (all of them for a
        request not in the queue: a newcomer is behind everyone)."""
        ahead = []
        for waiter in self.waiting:
            if waiter.request_id == request_id:
                break
            if waiter.expires_at > at:
                ahead.append(waiter)
        return tuple(ahead)


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """An instance a reservation may lease, with its lease capacity."""

    instance: InstanceState
    capacity: int


class Reservation(msgspec.Struct, frozen=True, kw_only=True):
    """A granted reservation: the lease (renew and release it through the
    lease service) on ``instance_id``, and how long the request waited."""

    request_id: str
    instance_id: str
    lease: Lease
    waited_s: float

    @property
    def token(self) -> int:
        """The fencing token: hand it to the instance."""
        return self.lease.token


__all__ = ["Candidate", "QueueView", "QueuedRequest", "Requirements", "Reservation"]
