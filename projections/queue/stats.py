"""The queue fold: a pure function of a hub's queue stream to what the hub
reports — depth, the oldest wait, and the history of wait times.

    stats = QueueStats()
    for recorded in queue_events:
        stats = apply(stats, recorded)
    stats.depth, stats.oldest_queued_at, stats.wait_p50_s

The same fold, checkpointed and stored, is the ``queue`` read model
(:mod:`projections.queue.readmodel`): what the hub API reads.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

import msgspec
from msgspec.structs import replace

from eventstore.envelope import RecordedEvent
from eventstore.events import (
    RequestAbandoned,
    RequestExpired,
    RequestGranted,
    RequestQueued,
    RequestRenewed,
)

HISTORY = 200
"""How many of the latest wait times are kept (grants and abandonments)."""


class Wait(msgspec.Struct, frozen=True, kw_only=True):
    """One request's time in the queue, and how it ended."""

    ended_at: datetime
    waited_s: float
    outcome: str  # granted | timeout | cancelled | failed | expired


class QueueStats(msgspec.Struct, frozen=True, kw_only=True):
    position: int = 0
    depth: int = 0
    """Requests waiting after the last event (dead ones until dropped)."""
    oldest_queued_at: datetime | None = None
    as_of: datetime | None = None
    """``recorded_at`` of the last queue event."""
    queued: int = 0
    granted: int = 0
    granted_at_once: int = 0
    """Grants that never waited (a newcomer finding a free slot)."""
    abandoned: int = 0
    expired: int = 0
    waits: tuple[Wait, ...] = ()

    def oldest_wait_s(self, now: datetime | None = None) -> float:
        """How long the oldest waiter has waited by ``now`` (default: ``as_of``)."""
        now = now or self.as_of
        if self.oldest_queued_at is None or now is None:
            return 0.0
        return max(0.0, (now - self.oldest_queued_at).total_seconds())

    def wait_percentile_s(self, q: float) -> float:
        """The ``q`` quantile (0..1, nearest rank) of the granted waits kept."""
        granted = sorted(w.waited_s for w in self.waits if w.outcome == "granted")
        if not granted:
            return 0.0
        return granted[max(0, math.ceil(q * len(granted)) - 1)]

    @property
    def wait_p50_s(self) -> float:
        return self.wait_percentile_s(0.5)

    @property
    def wait_p90_s(self) -> float:
        return self.wait_percentile_s(0.9)

    @property
    def wait_p99_s(self) -> float:
        return self.wait_percentile_s(0.99)

    @property
    def wait_max_s(self) -> float:
        return self.wait_percentile_s(1.0)

    def summary(self, now: datetime | None = None) -> dict[str, float | int | str | None]:
        """What ``get_resource_utilization`` reports under ``queue``; the
        oldest wait as of ``now`` (default: the queue's last event)."""
        return {
            "depth": self.depth,
            "oldest_wait_s": round(self.oldest_wait_s(now), 3),
            "oldest_queued_at": self.oldest_queued_at.isoformat()
            if self.oldest_queued_at
            else None,
            "granted": self.granted,
            "abandoned": self.abandoned,
            "expired": self.expired,
            "wait_p50_s": round(self.wait_p50_s, 3),
            "wait_p90_s": round(self.wait_p90_s, 3),
            "wait_p99_s": round(self.wait_p99_s, 3),
            "wait_max_s": round(self.wait_max_s, 3),
        }


QUEUE_EVENTS = (RequestQueued, RequestRenewed, RequestGranted, RequestAbandoned, RequestExpired)
Ended = RequestGranted | RequestAbandoned | RequestExpired


def apply(stats: QueueStats, recorded: RecordedEvent) -> QueueStats:
    """``stats`` after one event of the queue stream (others change nothing)."""
    e = recorded.event
    if not isinstance(e, QUEUE_EVENTS):
        return stats
    stats = replace(
        stats,
        position=recorded.position,
        depth=len(e.waiting),
        oldest_queued_at=e.waiting[0].queued_at if e.waiting else None,
        as_of=recorded.recorded_at,
    )
    if isinstance(e, RequestQueued):
        return replace(stats, queued=stats.queued + 1)
    if isinstance(e, RequestGranted):
        at_once = e.decided_at == e.queued_at
        stats = replace(
            stats, granted=stats.granted + 1, granted_at_once=stats.granted_at_once + at_once
        )
    elif isinstance(e, RequestAbandoned):
        stats = replace(stats, abandoned=stats.abandoned + 1)
    elif isinstance(e, RequestExpired):
        stats = replace(stats, expired=stats.expired + 1)
    wait = ended(e)
    return stats if wait is None else replace(stats, waits=(*stats.waits, wait)[-HISTORY:])


def ended(e: object) -> Wait | None:
    """The wait a grant, abandonment or expiry ended (None for other events)."""
    if not isinstance(e, Ended):
        return None
    outcome = (
        "granted"
        if isinstance(e, RequestGranted)
        else e.reason
        if isinstance(e, RequestAbandoned)
        else "expired"
    )
    waited = max(0.0, (e.decided_at - e.queued_at).total_seconds())
    return Wait(ended_at=e.decided_at, waited_s=waited, outcome=outcome)


def fold(events: Iterable[RecordedEvent], stats: QueueStats | None = None) -> QueueStats:
    """The stats after ``events`` (oldest first), from ``stats`` or empty."""
    stats = stats or QueueStats()
    for recorded in events:
        stats = apply(stats, recorded)
    return stats
