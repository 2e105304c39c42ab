"""The lock table: per resource, its capacity, live holders, fencing tokens.

A lease is a counting semaphore (capacity N; 1 for a mutex).  Whether a
lease has expired is judged by the backend's clock as the log records it,
never by the reader's: a grant at its ``recorded_at``; a renewal or release
at its ``decided_at`` when it has one the log can vouch for (not before the
lock's previous event, not after its own ``recorded_at``: the lease service
decides between the two, and optimistic concurrency guarantees nothing came
in between), else at ``recorded_at``.  The service (``projections.deciders.leases``)
and this fold agree on the holders after every event; the tests check it.
"""

from __future__ import annotations

from datetime import datetime

from msgspec.structs import replace

from eventstore import streams
from eventstore.envelope import RecordedEvent
from eventstore.events import LockExpired, LockGranted, LockReleased, LockRenewed

from .. import anomalies
from ..readmodel import flag
from .state import Holder, HubState, LeaseState


def fold_lock_event(state: HubState, event: RecordedEvent) -> HubState:
    """Fold a ``lock/<resource_id>`` event into ``state.locks``."""
    resource_id = streams.entity_of(event.stream) or ""
    lock = state.locks.get(resource_id) or LeaseState(resource_id=resource_id)
    e = event.event
    if isinstance(e, LockGranted):
        return _granted(state, event, e, lock)
    if not isinstance(e, LockRenewed | LockReleased | LockExpired):
        return state
    holder = next((h for h in lock.holders if h.owner == e.owner and h.token == e.token), None)
    if isinstance(e, LockExpired):
        return _expired(state, event, e, lock, holder)
    at = _judged_at(lock, event, e.decided_at)
    lock = replace(lock, changed_at=event.recorded_at)
    what = "renewed" if isinstance(e, LockRenewed) else "released"
    if holder is None:
        detail = (
            f"{what} by {e.owner!r} with token {e.token}, which holds no lease on {resource_id!r}"
        )
        state = flag(state, event, anomalies.NOT_HOLDER, detail)
        return _put(state, lock) if resource_id in state.locks else state
    if holder.expires_at <= at:
        state = flag(
            state, event, anomalies.NOT_HOLDER, f"{what} by {e.owner!r} after its lease expired"
        )
        return _put(state, replace(lock, holders=_without(lock, holder)))
    if isinstance(e, LockRenewed):
        renewed = replace(holder, expires_at=e.expires_at, ttl_s=e.ttl_s)
        holders = tuple(renewed if h is holder else h for h in lock.holders)
        return _put(state, replace(lock, holders=holders, renewals=lock.renewals + 1))
    return _put(state, replace(lock, holders=_without(lock, holder), releases=lock.releases + 1))


def _judged_at(lock: LeaseState, event: RecordedEvent, decided_at: datetime | None) -> datetime:
    after = lock.changed_at
    if decided_at is None or decided_at > event.recorded_at:
        return event.recorded_at
    if after is not None and decided_at < after:
        return event.recorded_at
    return decided_at


def _granted(state: HubState, event: RecordedEvent, e: LockGranted, lock: LeaseState) -> HubState:
    # Leases expired by the backend's clock are no longer held, event or not.
    live = lock.live(event.recorded_at)
    if e.token <= lock.last_token:
        state = flag(
            state,
            event,
            anomalies.TOKEN_NOT_INCREASING,
            f"token {e.token} after token {lock.last_token}",
        )
    if len(live) >= e.capacity:
        state = flag(
            state,
            event,
            anomalies.OVER_CAPACITY,
            f"{len(live) + 1} live holders, capacity {e.capacity}",
        )
    holder = Holder(
        owner=e.owner,
        token=e.token,
        granted_at=event.recorded_at,
        expires_at=e.expires_at,
        ttl_s=e.ttl_s,
    )
    granted = replace(
        lock,
        capacity=e.capacity,
        holders=(*live, holder),
        last_token=max(lock.last_token, e.token),
        grants=lock.grants + 1,
        changed_at=event.recorded_at,
    )
    return _put(state, granted)


def _expired(
    state: HubState, event: RecordedEvent, e: LockExpired, lock: LeaseState, holder: Holder | None
) -> HubState:
    if holder is None:
        # Already dropped when a later grant found it expired; a token never
        # granted is another matter.
        if e.token > lock.last_token:
            state = flag(
                state, event, anomalies.NOT_HOLDER, f"expiry of token {e.token}, never granted"
            )
        return _put(state, replace(lock, changed_at=event.recorded_at))
    if holder.expires_at > event.recorded_at:
        state = flag(
            state,
            event,
            anomalies.EXPIRED_EARLY,
            f"expired at {event.recorded_at}, lease ran to {holder.expires_at}",
        )
    expired = replace(
        lock,
        holders=_without(lock, holder),
        expiries=lock.expiries + 1,
        changed_at=event.recorded_at,
    )
    return _put(state, expired)


def _without(lock: LeaseState, holder: Holder) -> tuple[Holder, ...]:
    return tuple(h for h in lock.holders if h is not holder)


def _put(state: HubState, lock: LeaseState) -> HubState:
    return replace(state, locks={**state.locks, lock.resource_id: lock})
