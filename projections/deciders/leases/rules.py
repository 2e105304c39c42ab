"""The lease rules, pure: from a lock's state and a decision time to the
events that change it (or a refusal).  No I/O; the service reads the state,
asks these, and appends what they return with the version it read.

Judged at ``at``, a lower bound of the backend's clock: a lease is live while
``expires_at > at``.  Every change first records ``LockExpired`` for the
leases that have run out (whoever touches a lock next records its expiries);
a refusal returns None and so writes nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import msgspec
from msgspec.structs import replace

from eventstore.envelope import RecordedEvent
from eventstore.events import (
    LeaseHolder,
    LockEvent,
    LockExpired,
    LockGranted,
    LockReleased,
    LockRenewed,
)

from .errors import CapacityMismatch


class LeaseView(msgspec.Struct, frozen=True, kw_only=True):
    """A lock as of its stream's last event: all a decision needs."""

    hub_id: str
    resource_id: str
    version: int = 0
    """The lock stream's version: what the change is appended expecting."""
    capacity: int | None = None
    """Fixed by the first grant; None before it."""
    holders: tuple[LeaseHolder, ...] = ()
    """Leases not yet recorded as ended (some may have run out by now)."""
    changed_at: datetime | None = None
    """``recorded_at`` of the last event: a lower bound of the backend's clock."""

    def live(self, at: datetime) -> tuple[LeaseHolder, ...]:
        return tuple(h for h in self.holders if h.expires_at > at)

    def holder(self, owner: str, token: int) -> LeaseHolder | None:
        return next((h for h in self.holders if h.owner == owner and h.token == token), None)


class Lease(msgspec.Struct, frozen=True, kw_only=True):
    """A granted (or renewed) lease.  ``token`` is the fencing token: hand it
    to the resource, which refuses any token lower than the highest it saw."""

    hub_id: str
    resource_id: str
    owner: str
    token: int
    ttl_s: float
    expires_at: datetime
    """By the backend's clock."""
    capacity: int
    slots_left: int
    """Free slots right after this change."""


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """The events of one decision, and the lease it leaves the caller (if any)."""

    events: tuple[LockEvent, ...]
    lease: Lease | None = None


def expire(view: LeaseView, at: datetime) -> tuple[list[LockEvent], tuple[LeaseHolder, ...]]:
    """``LockExpired`` for every lease run out by ``at``, each listing the
    holders after it; and the holders left."""
    events: list[LockEvent] = []
    holders = view.holders
    for gone in (h for h in view.holders if h.expires_at <= at):
        holders = tuple(h for h in holders if h is not gone)
        events.append(
            LockExpired(
                owner=gone.owner,
                token=gone.token,
                ttl_s=gone.ttl_s,
                expires_at=gone.expires_at,
                capacity=view.capacity,
                decided_at=at,
                holders=holders,
            )
        )
    return events, holders


def grant(view: LeaseView, owner: str, ttl_s: float, capacity: int, at: datetime) -> Change | None:
    """A new lease for ``owner``, or None when every slot is held at ``at``.

    Raises: CapacityMismatch when the resource's capacity is another one.
    """
    if view.capacity is not None and view.capacity != capacity:
        raise CapacityMismatch(view.hub_id, view.resource_id, view.capacity, capacity)
    expiries, holders = expire(view, at)
    if len(holders) >= capacity:
        return None
    # The token is the grant's own version: after the expiries in its batch.
    token = view.version + len(expiries) + 1
    new = LeaseHolder(owner=owner, token=token, ttl_s=ttl_s, expires_at=at + _seconds(ttl_s))
    holders = (*holders, new)
    granted = LockGranted(
        owner=owner,
        token=token,
        ttl_s=ttl_s,
        expires_at=new.expires_at,
        capacity=capacity,
        decided_at=at,
        holders=holders,
    )
    return Change(events=(*expiries, granted), lease=_lease(view, new, capacity, holders))


def renew(view: LeaseView, owner: str, token: int, ttl_s: float, at: datetime) -> Change | None:
    """``owner``'s live lease ``token`` extended to ``at + ttl_s``; None (refused,
    nothing to write) when it is not held, not ``owner``'s, or run out."""
    held = view.holder(owner, token)
    if held is None or held.expires_at <= at or view.capacity is None:
        return None
    expiries, holders = expire(view, at)
    renewed = replace(held, ttl_s=ttl_s, expires_at=at + _seconds(ttl_s))
    holders = tuple(renewed if h.token == token else h for h in holders)
    event = LockRenewed(
        owner=owner,
        token=token,
        ttl_s=ttl_s,
        expires_at=renewed.expires_at,
        capacity=view.capacity,
        decided_at=at,
        holders=holders,
    )
    return Change(events=(*expiries, event), lease=_lease(view, renewed, view.capacity, holders))


def newest_token(view: LeaseView, owner: str, at: datetime) -> int | None:
    """``owner``'s newest lease live at ``at`` (what a caller without its
    token, such as Gleitzeit's ``release_lock``, means), or None."""
    mine = [h.token for h in view.live(at) if h.owner == owner]
    return max(mine) if mine else None


def release(view: LeaseView, owner: str, token: int, at: datetime) -> Change | None:
    """``owner``'s live lease ``token`` given back; None (refused, nothing to
    write) when it is not held, not ``owner``'s, or run out."""
    held = view.holder(owner, token)
    if held is None or held.expires_at <= at:
        return None
    expiries, holders = expire(view, at)
    holders = tuple(h for h in holders if h.token != token)
    event = LockReleased(
        owner=owner,
        token=token,
        ttl_s=held.ttl_s,
        expires_at=held.expires_at,
        capacity=view.capacity,
        decided_at=at,
        holders=holders,
    )
    return Change(events=(*expiries, event))


def reap(view: LeaseView, at: datetime) -> Change | None:
    """``LockExpired`` for the leases run out by ``at``; None when there are none."""
    expiries, _ = expire(view, at)
    return Change(events=tuple(expiries)) if expiries else None


# --- the state from the log -----------------------------------------------------


def view_after(hub_id: str, resource_id: str, last: RecordedEvent) -> LeaseView | None:
    """The state a lock event says it leaves, or None for an event written
    before lock events carried it (then fold the stream: :func:`fold`)."""
    e = last.event
    if not isinstance(e, LockEvent) or e.holders is None or e.capacity is None:
        return None
    return LeaseView(
        hub_id=hub_id,
        resource_id=resource_id,
        version=last.version,
        capacity=e.capacity,
        holders=e.holders,
        changed_at=last.recorded_at,
    )


def view_after_change(hub_id: str, resource_id: str, version: int, change: Change) -> LeaseView:
    """The lock as ``change`` — appended on top of ``version`` — leaves it:
    what its last event carries, with the decision's time standing in for
    the backend's ``recorded_at`` (a lower bound of it)."""
    last = change.events[-1]
    assert isinstance(last, LockEvent) and last.holders is not None
    return LeaseView(
        hub_id=hub_id,
        resource_id=resource_id,
        version=version + len(change.events),
        capacity=last.capacity,
        holders=last.holders,
        changed_at=last.decided_at,
    )


def fold(hub_id: str, resource_id: str, events: Iterable[RecordedEvent]) -> LeaseView:
    """The state of a lock stream from its events (oldest first): what a
    stream written before holders-after gives, in full, once."""
    view = LeaseView(hub_id=hub_id, resource_id=resource_id)
    for recorded in events:
        after = view_after(hub_id, resource_id, recorded)
        view = after if after is not None else _fold_old(view, recorded)
    return view


def _fold_old(view: LeaseView, recorded: RecordedEvent) -> LeaseView:
    e, at = recorded.event, recorded.recorded_at
    holders = view.holders
    capacity = view.capacity
    if isinstance(e, LockGranted):
        holders = (*view.live(at), _holder(e))
        capacity = capacity if capacity is not None else e.capacity
    elif isinstance(e, LockRenewed):
        holders = tuple(
            _holder(e) if (h.owner, h.token) == (e.owner, e.token) else h for h in holders
        )
    elif isinstance(e, LockReleased | LockExpired):
        holders = tuple(h for h in holders if (h.owner, h.token) != (e.owner, e.token))
    return replace(
        view, version=recorded.version, capacity=capacity, holders=holders, changed_at=at
    )


def _holder(e: LockGranted | LockRenewed) -> LeaseHolder:
    return LeaseHolder(owner=e.owner, token=e.token, ttl_s=e.ttl_s, expires_at=e.expires_at)


def _lease(
    view: LeaseView, holder: LeaseHolder, capacity: int, holders: tuple[LeaseHolder, ...]
) -> Lease:
    return Lease(
        hub_id=view.hub_id,
        resource_id=view.resource_id,
        owner=holder.owner,
        token=holder.token,
        ttl_s=holder.ttl_s,
        expires_at=holder.expires_at,
        capacity=capacity,
        slots_left=capacity - len(holders),
    )


def _seconds(ttl_s: float) -> timedelta:
    return timedelta(seconds=ttl_s)
