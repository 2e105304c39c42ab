"""The queue stream's I/O: its state (the last event, which carries the
whole queue), the decision time by the backend's clock, and changes through
the one decide loop (:mod:`..loop`) on ``queue/reserve``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from eventstore import streams
from eventstore.envelope import CorruptEvent, UnknownEvent
from eventstore.store import EventStore

from ..clock import BackendClock
from ..loop import Target, decide_and_append
from . import rules
from .errors import QueueContention, QueueUnreadable
from .rules import Change
from .state import QueueView

ATTEMPTS = 40
"""More than a lease's: one queue stream per hub is shared by every waiter."""

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

        async def read() -> tuple[tuple[QueueView, datetime], int]:
            view = await self.view(hub_id)
            return (view, await self.lower(view)), view.version

        return await decide_and_append(
            self.store,
            Target(hub_id, streams.queue(), correlation_id),
            read,
            lambda state: decide(*state),
            attempts=self.attempts,
            give_up=lambda _: QueueContention(hub_id, self.attempts),
        )
