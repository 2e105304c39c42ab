"""The queue read model: :mod:`.stats`'s fold of a hub's queue stream, kept
by a :class:`~projections.ProjectionRunner` like the standard read models —
checkpointed, stored beside them, folded only from where it stopped.

Tables: ``stats`` (head, key ``""``: the :class:`QueueStats` — depth, oldest
wait, counts, the latest waits the percentiles are taken over) and ``waits``
(history: one row per request that left the queue, by log position — every
wait ever, which the head keeps only the latest ``HISTORY`` of).
"""

# msgspec copies empty-collection defaults per instance; ruff cannot see that
# through a ReadModel subclass.
# ruff: noqa: RUF012

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import msgspec
from msgspec.structs import replace

from eventstore.envelope import RecordedEvent
from eventstore.events import RequestGranted

from .. import keys
from ..readmodel import Projection, ReadModel
from .stats import QUEUE_EVENTS, Ended, QueueStats, apply, ended

HEAD_KEY = ""


class WaitRow(msgspec.Struct, frozen=True, kw_only=True):
    """One request's time in the queue, kept for good."""

    position: int
    request_id: str
    owner: str
    outcome: str  # granted | timeout | cancelled | failed | expired
    ended_at: datetime
    waited_s: float
    instance_id: str | None = None
    """Where it was granted (None for the other outcomes)."""


class QueueModel(ReadModel, frozen=True, kw_only=True):
    HEAD = ("stats",)

    stats: dict[str, QueueStats] = {}
    waits: dict[str, WaitRow] = {}

    @property
    def queue(self) -> QueueStats:
        """The hub's queue figures (empty before any queue event)."""
        return self.stats.get(HEAD_KEY) or QueueStats()


class QueueProjection(Projection[QueueModel]):
    """Folds a hub's ``queue/reserve`` events into a :class:`QueueModel`.

    Gleitzeit's saved queue states share the ``queue`` category but are no
    reservation events: they are left out by type.
    """

    name: ClassVar[str] = "queue"
    version: ClassVar[int] = 1
    state_type: ClassVar[type[ReadModel]] = QueueModel
    categories: ClassVar[frozenset[str]] = frozenset({"queue"})
    event_types: ClassVar[frozenset[str] | None] = frozenset(t.__name__ for t in QUEUE_EVENTS)

    def evolve(self, state: QueueModel, event: RecordedEvent) -> QueueModel:
        stats = {HEAD_KEY: apply(state.queue, event)}
        e, wait = event.event, ended(event.event)
        if wait is None or not isinstance(e, Ended):
            return replace(state, stats=stats)
        row = WaitRow(
            position=event.position,
            request_id=e.request_id,
            owner=e.owner,
            outcome=wait.outcome,
            ended_at=wait.ended_at,
            waited_s=wait.waited_s,
            instance_id=e.instance_id if isinstance(e, RequestGranted) else None,
        )
        return replace(state, stats=stats, waits={**state.waits, keys.seq(event.position): row})


__all__ = ["QueueModel", "QueueProjection", "WaitRow"]
