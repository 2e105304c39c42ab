"""The lease service: counting, fenced leases over the store contract.

One algorithm on every backend, no backend-specific locking: read the lease
stream's last event (it carries the whole state), decide by the backend's
clock (:mod:`..clock`), append the decision's events expecting the version
read — the one decide loop (:mod:`..loop`).  A lost race means someone else
changed the lease first: read again and decide again, up to ``attempts``
times.
Uncontended, a call is two round trips: one read, one conditional append.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from datetime import datetime
from uuid import UUID

from eventstore import streams
from eventstore.envelope import CorruptEvent, RecordedEvent, UnknownEvent
from eventstore.events import LeaseHolder
from eventstore.store import EventStore

from ..clock import BackendClock
from ..loop import ATTEMPTS, Target, decide_and_append
from . import rules
from .errors import InvalidLeaseRequest, LeaseContention, LeaseUnreadable
from .rules import Change, Lease, LeaseView

Decide = Callable[[LeaseView, datetime], Change | None]


class LeaseService:
    """Leases on the resources of any hub of ``store``.

    Every method raises ``BackendUnavailable`` when the backend cannot be
    reached (a grant whose append timed out and could not be confirmed may
    have been written; it then simply runs out), ``InvalidLeaseRequest`` for
    impossible arguments and ``InvalidEventError`` for a bad hub or resource
    id; changes raise ``LeaseContention`` after ``attempts`` lost races and
    ``LeaseUnreadable`` when the lock's last event cannot be read.
    """

    def __init__(
        self,
        store: EventStore,
        *,
        clock: BackendClock | None = None,
        attempts: int = ATTEMPTS,
        keep_views: bool = False,
    ) -> None:
        self.store = store
        self.clock = clock or BackendClock(store)
        self.attempts = attempts
        self._views: dict[tuple[str, str], LeaseView] | None = {} if keep_views else None
        """With ``keep_views``: each lock as this service's last change left it.
        A change decides from it first (its append expects its version, so a
        stale view costs a lost race, never a wrong grant); a refusal is
        never given from it: the lock is read again first."""

    async def acquire(
        self,
        hub_id: str,
        resource_id: str,
        owner_id: str,
        *,
        ttl: float,
        capacity: int = 1,
        correlation_id: str | UUID | None = None,
    ) -> Lease | None:
        """A lease on ``resource_id`` for ``ttl`` seconds, or None when all
        ``capacity`` slots are held.  The first grant fixes the capacity.

        Raises: CapacityMismatch when the resource has another capacity
        (nothing is written); and see the class.
        """
        _check_owner(owner_id)
        _check_ttl(ttl)
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise InvalidLeaseRequest(f"capacity must be an int >= 1, got {capacity!r}")
        change = await self._change(
            hub_id,
            resource_id,
            lambda view, at: rules.grant(view, owner_id, float(ttl), capacity, at),
            correlation_id,
        )
        return change.lease if change is not None else None

    async def renew(
        self,
        hub_id: str,
        resource_id: str,
        owner_id: str,
        token: int,
        *,
        ttl: float,
        correlation_id: str | UUID | None = None,
    ) -> Lease | None:
        """Extend ``owner_id``'s lease ``token`` to ``ttl`` seconds from now;
        None — refused, nothing written — when that lease is not held by
        ``owner_id`` or has run out by the backend's clock.

        Raises: see the class.
        """
        _check_owner(owner_id)
        _check_token(token)
        _check_ttl(ttl)
        change = await self._change(
            hub_id,
            resource_id,
            lambda view, at: rules.renew(view, owner_id, token, float(ttl), at),
            correlation_id,
        )
        return change.lease if change is not None else None

    async def release(
        self,
        hub_id: str,
        resource_id: str,
        owner_id: str,
        token: int,
        *,
        correlation_id: str | UUID | None = None,
    ) -> bool:
        """Give back ``owner_id``'s lease ``token``; False — refused, nothing
        written — when it is not held by ``owner_id`` or has run out.

        Raises: see the class.
        """
        _check_owner(owner_id)
        _check_token(token)
        change = await self._change(
            hub_id,
            resource_id,
            lambda view, at: rules.release(view, owner_id, token, at),
            correlation_id,
        )
        return change is not None

    async def renew_newest(
        self, hub_id: str, resource_id: str, owner_id: str, *, ttl: float
    ) -> Lease | None:
        """:meth:`renew` of ``owner_id``'s newest live lease, in the same one
        read and one append (Gleitzeit's ``extend_lock`` names no token);
        None when it holds none.

        Raises: see the class.
        """
        _check_owner(owner_id)
        _check_ttl(ttl)

        def decide(view: LeaseView, at: datetime) -> Change | None:
            token = rules.newest_token(view, owner_id, at)
            return None if token is None else rules.renew(view, owner_id, token, float(ttl), at)

        change = await self._change(hub_id, resource_id, decide, None)
        return change.lease if change is not None else None

    async def release_newest(self, hub_id: str, resource_id: str, owner_id: str) -> bool:
        """:meth:`release` of ``owner_id``'s newest live lease, in the same
        one read and one append (Gleitzeit's ``release_lock`` names no
        token); False when it holds none.

        Raises: see the class.
        """
        _check_owner(owner_id)

        def decide(view: LeaseView, at: datetime) -> Change | None:
            token = rules.newest_token(view, owner_id, at)
            return None if token is None else rules.release(view, owner_id, token, at)

        return await self._change(hub_id, resource_id, decide, None) is not None

    async def reap(
        self, hub_id: str, resource_id: str, *, correlation_id: str | UUID | None = None
    ) -> int:
        """Record ``LockExpired`` for the resource's leases that have run out;
        how many.  Optional: any change of the lock records them too.

        Raises: see the class.
        """
        change = await self._change(hub_id, resource_id, rules.reap, correlation_id)
        return len(change.events) if change is not None else 0

    async def holders(self, hub_id: str, resource_id: str) -> tuple[LeaseHolder, ...]:
        """The leases the next acquire would count as held (one read).

        Raises: LeaseUnreadable, BackendUnavailable, InvalidEventError.
        """
        view = await self.view(hub_id, resource_id)
        return view.live(await self._lower(view))

    async def check_token(self, hub_id: str, resource_id: str, token: int) -> bool:
        """Is ``token`` a lease on ``resource_id`` that is surely unexpired now
        (even by the upper bound of the backend's clock)?  What a resource
        asks to reject a stale holder (one read).

        Raises: LeaseUnreadable, BackendUnavailable, InvalidEventError.
        """
        _check_token(token)
        view = await self.view(hub_id, resource_id)
        at = await self.clock.upper()
        if view.changed_at is not None:
            at = max(at, view.changed_at)
        return any(h.token == token and h.expires_at > at for h in view.holders)

    async def view(self, hub_id: str, resource_id: str) -> LeaseView:
        """The lock's state: its stream's last event, or — for a stream last
        written before lock events carried their state — the fold of it.

        Raises: LeaseUnreadable, BackendUnavailable, InvalidEventError.
        """
        stream = streams.lease(resource_id)
        last = await self.store.last_event(hub_id, stream)
        if last is None:
            return LeaseView(hub_id=hub_id, resource_id=resource_id)
        _check_readable(hub_id, resource_id, last)
        view = rules.view_after(hub_id, resource_id, last)
        if view is not None:
            return view
        async with aclosing(self.store.read_stream(hub_id, stream)) as events:
            history = [_check_readable(hub_id, resource_id, e) async for e in events]
        return rules.fold(hub_id, resource_id, history)

    # --- the one loop ---------------------------------------------------------

    async def _change(
        self,
        hub_id: str,
        resource_id: str,
        decide: Decide,
        correlation_id: str | UUID | None,
    ) -> Change | None:
        key = (hub_id, resource_id)
        kept = self._views.pop(key, None) if self._views is not None else None
        reads, read_at = 0, 0

        async def read() -> tuple[tuple[LeaseView, datetime], int]:
            nonlocal reads, read_at
            reads += 1
            view = kept if kept is not None and reads == 1 else await self.view(*key)
            read_at = view.version
            return (view, await self._lower(view)), view.version

        def judged(state: tuple[LeaseView, datetime]) -> Change | None:
            change = decide(*state)
            if (change is None or not change.events) and reads == 1 and kept is not None:
                raise _Stale  # a refusal from a kept view: read the lock, then judge
            return change

        target = Target(hub_id, streams.lease(resource_id), correlation_id)
        try:
            change = await self._loop(target, read, judged, resource_id)
        except _Stale:
            kept, reads = None, 0
            change = await self._loop(target, read, judged, resource_id)
        if change is not None and change.events and self._views is not None:
            self._views[key] = rules.view_after_change(hub_id, resource_id, read_at, change)
        return change

    async def _loop(
        self,
        target: Target,
        read: Callable[[], Awaitable[tuple[tuple[LeaseView, datetime], int]]],
        decide: Callable[[tuple[LeaseView, datetime]], Change | None],
        resource_id: str,
    ) -> Change | None:
        return await decide_and_append(
            self.store,
            target,
            read,
            decide,
            attempts=self.attempts,
            give_up=lambda _: LeaseContention(target.hub_id, resource_id, self.attempts),
        )

    async def _lower(self, view: LeaseView) -> datetime:
        # The last event's recorded_at is a lower bound too; take the tighter.
        at = await self.clock.lower()
        return max(at, view.changed_at) if view.changed_at is not None else at


class _Stale(Exception):
    """A kept view refused: the lock must be read before a refusal is given."""


def _check_readable(hub_id: str, resource_id: str, event: RecordedEvent) -> RecordedEvent:
    if isinstance(event.event, UnknownEvent | CorruptEvent):
        raise LeaseUnreadable(hub_id, resource_id, event.version, event.type)
    return event


def _check_owner(owner_id: object) -> None:
    if not isinstance(owner_id, str) or not owner_id:
        raise InvalidLeaseRequest(f"owner_id must be a non-empty str, got {owner_id!r}")


def _check_token(token: object) -> None:
    if isinstance(token, bool) or not isinstance(token, int) or token < 1:
        raise InvalidLeaseRequest(f"token must be an int >= 1, got {token!r}")


def _check_ttl(ttl: object) -> None:
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not math.isfinite(ttl):
        raise InvalidLeaseRequest(f"ttl must be a finite number of seconds, got {ttl!r}")
    if ttl <= 0:
        raise InvalidLeaseRequest(f"ttl must be > 0 seconds, got {ttl!r}")
