"""The queue stream's I/O: read its state (the last event), decide by the
backend's clock, append the decision expecting the version read — the lease
service's loop, on ``queue/reserve``."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime

import anyio

from eventstore import streams
from eventstore.envelope import NO_STREAM, CorruptEvent, UnknownEvent
from eventstore.errors import BackendUnavailable, WrongExpectedVersion
from eventstore.retry import RetryPolicy
from eventstore.store import EventStore
from projections.deciders.leases import BackendClock

from . import rules
from .errors import QueueContention, QueueUnreadable
from .rules import Change
from .state import QueueView

ATTEMPTS = 40
BACKOFF, BACKOFF_CAP = 0.001, 0.05
APPEND_RETRY = RetryPolicy(initial=0.05, cap=1.0, deadline=10.0)
"""A timed-out append is retried with the same events (answered idempotently)."""

Decide = Callable[[QueueView, datetime], Change | None]


class QueueLog:
    """One hub's reservation queue, as its stream says.

    Every method raises BackendUnavailable, InvalidEventError (a bad hub id)
    and QueueUnreadable (the stream's last event cannot be read); changes
    raise QueueContention after ``attempts`` lost races.
    """

    def __init__(self, store: EventStore, clock: BackendClock, *, attempts: int = ATTEMPTS) -> None:
        self.store = store
        self.clock = clock
        self.attempts = attempts

    async def view(self, hub_id: str) -> QueueView:
        """The queue's state: its stream's last event."""
        last = await self.store.last_event(hub_id, streams.queue())
        if last is None:
            return QueueView(hub_id=hub_id)
        view = None
        if not isinstance(last.event, UnknownEvent | CorruptEvent):
            view = rules.view_after(hub_id, last)
        if view is None:
            raise QueueUnreadable(hub_id, last.version, last.type)
        return view

    async def lower(self, view: QueueView) -> datetime:
        """The decision time: the backend clock's lower bound, never before
        the queue's last event."""
        at = await self.clock.lower()
        return max(at, view.changed_at) if view.changed_at is not None else at

    async def change(
        self, hub_id: str, decide: Decide, correlation_id: str | None
    ) -> Change | None:
        """Read, decide, append expecting the version read; again on a lost
        race.  None (nothing written) when ``decide`` refuses."""
        for attempt in range(self.attempts):
            view = await self.view(hub_id)
            change = decide(view, await self.lower(view))
            if change is None or not change.events:
                return change
            try:
                await self._append(view, change, correlation_id)
            except WrongExpectedVersion:
                # Full jitter, growing: the same racers stop colliding in lockstep.
                await anyio.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF * 2**attempt)))
                continue
            return change
        raise QueueContention(hub_id, self.attempts)

    async def _append(self, view: QueueView, change: Change, correlation_id: str | None) -> None:
        expected = view.version if view.version else NO_STREAM
        retrying = APPEND_RETRY.start()
        while True:
            try:
                await self.store.append(
                    view.hub_id,
                    streams.queue(),
                    list(change.events),
                    expected_version=expected,
                    correlation_id=correlation_id,
                )
                return
            except BackendUnavailable as exc:
                await retrying.wait(exc)  # the same event objects: idempotent
