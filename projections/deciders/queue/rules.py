"""The queue rules, pure: from a queue's state and a decision time to the
events that change it (or a refusal, None, which writes nothing).

Judged at ``at``, a lower bound of the backend's clock: a waiter is live
while ``expires_at > at``.  Every change first records ``RequestExpired`` for
the waiters whose heartbeat has stopped (whoever changes the queue next drops
them), and each event carries the waiting requests after it.

The FIFO rule: a request may take a slot on an instance only while fewer
live, older waiters could use that instance than it had free slots — with
one free slot, only the oldest live waiter that can use it.  A newcomer is
behind everyone already waiting.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
from msgspec.structs import replace

from eventstore.envelope import RecordedEvent
from eventstore.events import (
    QueuedRequest,
    QueueEvent,
    RequestAbandoned,
    RequestExpired,
    RequestGranted,
    RequestQueued,
    RequestRenewed,
)
from projections.hub.state import InstanceState

from .match import matches
from .state import QueueView


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """The events of one decision, oldest first."""

    events: tuple[QueueEvent, ...]


def expire(view: QueueView, at: datetime) -> tuple[list[QueueEvent], tuple[QueuedRequest, ...]]:
    """``RequestExpired`` for every waiter whose heartbeat ran out by ``at``;
    and the waiters left."""
    events: list[QueueEvent] = []
    waiting = view.waiting
    for gone in (w for w in view.waiting if w.expires_at <= at):
        waiting = tuple(w for w in waiting if w is not gone)
        events.append(
            RequestExpired(
                request_id=gone.request_id,
                owner=gone.owner,
                expires_at=gone.expires_at,
                queued_at=gone.queued_at,
                decided_at=at,
                waiting=waiting,
            )
        )
    return events, waiting


def join(view: QueueView, request: QueuedRequest, at: datetime) -> Change:
    """``request`` at the tail of the queue."""
    expiries, waiting = expire(view, at)
    waiting = (*waiting, request)
    return Change(
        events=(*expiries, RequestQueued(request=request, decided_at=at, waiting=waiting))
    )


def renew(view: QueueView, request_id: str, at: datetime) -> Change | None:
    """A heartbeat: the waiter's ``expires_at`` moved to ``at + heartbeat_s``;
    None (nothing written) when it is no longer live in the queue."""
    mine = view.find(request_id)
    if mine is None or mine.expires_at <= at:
        return None
    expiries, waiting = expire(view, at)
    renewed = replace(mine, expires_at=at + timedelta(seconds=mine.heartbeat_s))
    waiting = tuple(renewed if w.request_id == request_id else w for w in waiting)
    event = RequestRenewed(
        request_id=request_id,
        owner=mine.owner,
        expires_at=renewed.expires_at,
        decided_at=at,
        waiting=waiting,
    )
    return Change(events=(*expiries, event))


def abandon(view: QueueView, request_id: str, reason: str, at: datetime) -> Change | None:
    """The waiter leaves by itself; None when it is no longer live in the queue."""
    mine = view.find(request_id)
    if mine is None or mine.expires_at <= at:
        return None
    expiries, waiting = expire(view, at)
    waiting = tuple(w for w in waiting if w.request_id != request_id)
    event = RequestAbandoned(
        request_id=request_id,
        owner=mine.owner,
        reason=reason,
        queued_at=mine.queued_at,
        decided_at=at,
        waiting=waiting,
    )
    return Change(events=(*expiries, event))


def claimants(
    view: QueueView, request_id: str | None, instance: InstanceState, at: datetime
) -> tuple[QueuedRequest, ...]:
    """The live waiters ahead of ``request_id`` that could use ``instance``."""
    return tuple(w for w in view.ahead_of(request_id, at) if matches(w.requirements, instance))


def entitled(
    view: QueueView, request_id: str | None, instance: InstanceState, free: int, at: datetime
) -> bool:
    """May ``request_id`` (None: a newcomer) take one of ``free`` slots of
    ``instance`` at ``at``?  The FIFO rule."""
    return len(claimants(view, request_id, instance, at)) < free


def grant(
    view: QueueView,
    request: QueuedRequest,
    *,
    joined: bool,
    instance: InstanceState,
    token: int,
    free: int,
    at: datetime,
) -> Change | None:
    """``request`` got lease ``token`` on ``instance`` (which had ``free``
    slots before it) and leaves the queue.  A newcomer (``joined=False``)
    joins and is granted in one batch.  None — not entitled, write nothing —
    when the FIFO rule says no, or a joined request is no longer live."""
    if joined:
        mine = view.find(request.request_id)
        if mine is None or mine.expires_at <= at:
            return None
    if not entitled(view, request.request_id if joined else None, instance, free, at):
        return None
    expiries, waiting = expire(view, at)
    events: list[QueueEvent] = expiries
    if not joined:
        waiting = (*waiting, request)
        events.append(RequestQueued(request=request, decided_at=at, waiting=waiting))
    waiting = tuple(w for w in waiting if w.request_id != request.request_id)
    granted = RequestGranted(
        request_id=request.request_id,
        owner=request.owner,
        instance_id=instance.id,
        token=token,
        free=free,
        queued_at=request.queued_at,
        decided_at=at,
        waiting=waiting,
    )
    return Change(events=(*events, granted))


def reap(view: QueueView, at: datetime) -> Change | None:
    """``RequestExpired`` for the waiters whose heartbeat stopped; None when none."""
    expiries, _ = expire(view, at)
    return Change(events=tuple(expiries)) if expiries else None


def view_after(hub_id: str, last: RecordedEvent) -> QueueView | None:
    """The state a queue event says it leaves; None for an event that is not
    a reservation event (a Gleitzeit ``QueueStateSaved`` never is here)."""
    e = last.event
    if not isinstance(e, RequestQueued | RequestRenewed | RequestGranted | RequestAbandoned
                      | RequestExpired):  # fmt: skip
        return None
    return QueueView(
        hub_id=hub_id, version=last.version, waiting=e.waiting, changed_at=last.recorded_at
    )
