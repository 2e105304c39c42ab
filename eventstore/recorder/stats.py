"""The recorder's counts, per hub, and the ``RecorderStats`` event made of them.

Every recorded event ends in exactly one count, so the books balance::

    recorded = appended + spilled + coalesced + dropped + rejected + unwritten + pending

(``refused`` events were never taken, so they are not in ``recorded``;
``drained`` counts spilled events that later reached the backend, and
``damaged_bytes`` what a damaged spill file lost.)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from ..events import RecorderStats
from .receipt import Fate


@dataclass
class Counts:
    recorded: int = 0
    refused: int = 0
    appended: int = 0
    spilled: int = 0
    coalesced: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    unwritten: int = 0
    drained: int = 0
    damaged_bytes: int = 0

    def settle(self, fate: Fate, reason: str = "", n: int = 1) -> None:
        """Count ``n`` recorded events as having met ``fate``."""
        if fate is Fate.DROPPED:
            self.dropped[reason or "unknown"] += n
        elif fate is not Fate.PENDING:
            name = fate.value
            setattr(self, name, getattr(self, name) + n)

    @property
    def pending(self) -> int:
        settled = self.appended + self.spilled + self.coalesced + self.rejected + self.unwritten
        return self.recorded - settled - sum(self.dropped.values())

    def key(self) -> tuple[object, ...]:
        """What a stats event shows: one is written only when this changed."""
        return (
            self.recorded, self.refused, self.appended, self.spilled, self.coalesced,
            tuple(sorted(self.dropped.items())), self.rejected, self.drained, self.damaged_bytes,
        )  # fmt: skip

    def add(self, other: Counts) -> None:
        for name in ("recorded", "refused", "appended", "spilled", "coalesced", "rejected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.unwritten += other.unwritten
        self.drained += other.drained
        self.damaged_bytes = max(self.damaged_bytes, other.damaged_bytes)  # one file, not per hub
        self.dropped.update(other.dropped)

    def event(self, recorder: str, started_at: datetime) -> RecorderStats:
        return RecorderStats(
            recorder=recorder,
            started_at=started_at,
            recorded=self.recorded,
            refused=self.refused,
            appended=self.appended,
            coalesced=self.coalesced,
            dropped=dict(self.dropped),
            spilled=self.spilled,
            drained=self.drained,
            rejected=self.rejected,
            damaged_bytes=self.damaged_bytes,
        )


class Stats:
    """``recorder.stats``: counts per hub and their sum (``total``)."""

    def __init__(self) -> None:
        self.by_hub: dict[str, Counts] = {}
        self.written: dict[str, tuple[object, ...]] = {}  # key() of the last stats event per hub

    def of(self, hub_id: str) -> Counts:
        counts = self.by_hub.get(hub_id)
        if counts is None:
            counts = self.by_hub[hub_id] = Counts()
        return counts

    @property
    def total(self) -> Counts:
        total = Counts()
        for counts in self.by_hub.values():
            total.add(counts)
        return total

    def changed(self) -> list[str]:
        """Hubs whose counts changed since their last stats event."""
        return [h for h, c in self.by_hub.items() if self.written.get(h) != c.key()]

    def __repr__(self) -> str:
        t = self.total
        return (
            f"<Stats recorded={t.recorded} appended={t.appended} spilled={t.spilled} "
            f"drained={t.drained} coalesced={t.coalesced} dropped={dict(t.dropped)} "
            f"refused={t.refused} rejected={t.rejected} unwritten={t.unwritten} "
            f"pending={t.pending}>"
        )
