"""The queue read model: a pure fold of a hub's queue stream to what the
hub reports — depth, the oldest wait, and the history of wait times.

    stats = QueueStats()
    for recorded in queue_events:
        stats = apply(stats, recorded)
    stats.depth, stats.oldest_queued_at, stats.wait_p50_s
"""

from __future__ import annotations

import statistics
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

    @property
    def wait_p50_s(self) -> float:
        granted = [w.waited_s for w in self.waits if w.outcome == "granted"]
        return statistics.median(granted) if granted else 0.0

    @property
    def wait_max_s(self) -> float:
        return max((w.waited_s for w in self.waits if w.outcome == "granted"), default=0.0)

    def summary(self) -> dict[str, float | int | str | None]:
        """What ``get_resource_utilization`` reports under ``queue``."""
        return {
            "depth": self.depth,
            "oldest_wait_s": round(self.oldest_wait_s(), 3),
            "oldest_queued_at": self.oldest_queued_at.isoformat()
            if self.oldest_queued_at
            else None,
            "granted": self.granted,
            "abandoned": self.abandoned,
            "expired": self.expired,
            "wait_p50_s": round(self.wait_p50_s, 3),
            "wait_max_s": round(self.wait_max_s, 3),
        }


def apply(stats: QueueStats, recorded: RecordedEvent) -> QueueStats:
    """``stats`` after one event of the queue stream (others change nothing)."""
    e = recorded.event
    if not isinstance(e, RequestQueued | RequestRenewed | RequestGranted | RequestAbandoned
                      | RequestExpired):  # fmt: skip
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
    if isinstance(e, RequestRenewed):
        return stats
    waited = max(0.0, (e.decided_at - e.queued_at).total_seconds())
    if isinstance(e, RequestGranted):
        stats = replace(
            stats,
            granted=stats.granted + 1,
            granted_at_once=stats.granted_at_once + (e.decided_at == e.queued_at),
        )
        outcome = "granted"
    elif isinstance(e, RequestAbandoned):
        stats, outcome = replace(stats, abandoned=stats.abandoned + 1), e.reason
    else:
        stats, outcome = replace(stats, expired=stats.expired + 1), "expired"
    wait = Wait(ended_at=e.decided_at, waited_s=waited, outcome=outcome)
    return replace(stats, waits=(*stats.waits, wait)[-HISTORY:])


def fold(events: Iterable[RecordedEvent], stats: QueueStats | None = None) -> QueueStats:
    """The stats after ``events`` (oldest first), from ``stats`` or empty."""
    stats = stats or QueueStats()
    for recorded in events:
        stats = apply(stats, recorded)
    return stats
