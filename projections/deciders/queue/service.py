"""Reservation with waiting: a lease slot on a matching instance now, or a
place in the hub's queue and a grant in FIFO order as slots free up.

One attempt reads the queue, picks a matching available instance the FIFO
rule lets this request take (:func:`rules.entitled`), takes a lease there
(the lease service: capacity and fencing as ever) and then records
``RequestGranted`` on the queue expecting the version it judged by — so the
grant is recorded only if the queue still entitles it; otherwise the lease is
given back.  A waiter renews its heartbeat every ``heartbeat/3`` and tries
again whenever the log says a slot may have freed (:mod:`.follow`).
"""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio

from eventstore.errors import EventStoreError
from eventstore.events import QueuedRequest, Requirements
from eventstore.store import EventStore
from projections.deciders.leases import BackendClock, CapacityMismatch, Lease, LeaseService

from . import rules
from .errors import InvalidReservation, QueueContention, ReservationTimeout
from .log import QueueLog
from .match import matches, requirements_of
from .state import Candidate, QueueView, Reservation
from .waiting import Waker, waiting

Pool = Callable[[str], Awaitable[Sequence[Candidate]]]
"""The hub's instances a reservation may lease (from the hub projection)."""

HEARTBEAT = 10.0
RECHECK = 0.5
CLEANUP_S = 5.0
"""How long a cancelled or failed waiter tries to record that it left."""
LOST = "lost"  # the request's place was dropped (its heartbeat ran out)


@dataclass
class Ask:
    """One reserve call's request, before it has times."""

    hub_id: str
    request_id: str
    owner: str
    requirements: Requirements
    ttl_s: float
    heartbeat_s: float
    wait_s: float
    waiting: bool = False
    """In the queue (joined, not yet granted or gone): the heartbeat runs."""
    lost: bool = False
    """A heartbeat was refused: the place is gone (set by the heartbeat task)."""

    def at(self, at: datetime) -> QueuedRequest:
        return QueuedRequest(
            request_id=self.request_id,
            owner=self.owner,
            requirements=self.requirements,
            ttl_s=self.ttl_s,
            heartbeat_s=self.heartbeat_s,
            queued_at=at,
            expires_at=at + timedelta(seconds=self.heartbeat_s),
            gives_up_at=at + timedelta(seconds=self.wait_s),
        )


class QueueService:
    """Reservations on the instances of any hub of ``store``.

    :meth:`reserve` raises ReservationTimeout, InvalidReservation,
    QueueContention and QueueUnreadable (``projections.deciders.queue.errors``), what
    the lease service raises (LeaseContention, LeaseUnreadable), and from the
    store BackendUnavailable and InvalidEventError — all EventStoreErrors.
    """

    def __init__(
        self,
        store: EventStore,
        *,
        leases: LeaseService | None = None,
        clock: BackendClock | None = None,
        heartbeat: float = HEARTBEAT,
        recheck: float = RECHECK,
    ) -> None:
        self.store = store
        self.leases = leases or LeaseService(store, clock=clock)
        self.log = QueueLog(store, clock or self.leases.clock)
        self.heartbeat = heartbeat
        self.recheck = recheck

    async def reserve(
        self,
        hub_id: str,
        *,
        requirements: Requirements | Mapping[str, Any] | None,
        owner_id: str,
        ttl: float,
        wait: float = 0.0,
        pool: Pool,
        heartbeat: float | None = None,
    ) -> Reservation:
        """A lease slot on a matching instance of ``pool`` for ``ttl``
        seconds — now, or after waiting in the hub's queue up to ``wait``
        seconds, granted in FIFO order.  With ``wait=0`` it never joins the
        queue (and never jumps it).  Cancelling the caller leaves the queue
        (``RequestAbandoned``, reason ``cancelled``).  A waiter whose
        heartbeat (every ``heartbeat/3``; default the service's) stops for
        ``heartbeat`` seconds is dropped by the next change of the queue.

        Raises: ReservationTimeout (the request has left the queue); and see
        the class.
        """
        # ``is None``, not ``or``: a falsy heartbeat (0, False) is a bad argument
        # to refuse, not a request for the default.
        beat = self.heartbeat if heartbeat is None else heartbeat
        ask = self._ask(hub_id, requirements, owner_id, ttl, wait, beat)
        head = await self.store.head(hub_id) if wait > 0 else 0
        got = await self._attempt(ask, None, await pool(hub_id))
        if isinstance(got, Reservation):
            return got
        if wait <= 0:
            raise ReservationTimeout(hub_id, owner_id, wait, ask.request_id)
        deadline = anyio.current_time() + wait
        granted: list[Reservation] = []

        async def wait_for_a_grant(waker: Waker) -> Reservation:
            got = await self._wait(ask, pool, waker, deadline)
            granted.append(got)
            return got

        try:
            return await waiting(
                self.store, hub_id, head, wait_for_a_grant, lambda: self._heartbeat(ask)
            )
        except BaseException:
            # Granted, but cancelled while the waiting ended (its task
            # group's exit is an await): the caller never receives it.
            for reservation in granted:
                await self._give_back(reservation.lease)
            raise

    async def view(self, hub_id: str) -> QueueView:
        """The queue as its last event says (some waiters may be dead by now).

        Raises: QueueUnreadable, BackendUnavailable, InvalidEventError.
        """
        return await self.log.view(hub_id)

    async def reap(self, hub_id: str) -> int:
        """Record ``RequestExpired`` for the waiters whose heartbeat stopped;
        how many.  Optional: any change of the queue records them too.

        Raises: QueueContention, QueueUnreadable, BackendUnavailable.
        """
        change = await self.log.change(hub_id, rules.reap, None)
        return len(change.events) if change is not None else 0

    # --- waiting ----------------------------------------------------------------

    async def _wait(self, ask: Ask, pool: Pool, waker: Waker, deadline: float) -> Reservation:
        await self._join(ask)
        try:
            return await self._until_granted(ask, pool, waker, deadline)
        except BaseException as exc:
            reason = "cancelled" if isinstance(exc, anyio.get_cancelled_exc_class()) else "failed"
            if not isinstance(exc, ReservationTimeout):
                await self._leave(ask, reason)
            raise

    async def _until_granted(
        self, ask: Ask, pool: Pool, waker: Waker, deadline: float
    ) -> Reservation:
        candidates: Sequence[Candidate] = ()
        while True:
            if waker.pool_changed or not candidates:
                waker.pool_changed = False
                candidates = await pool(ask.hub_id)
                waker.usable = frozenset(c.instance.id for c in self._usable(ask, candidates))
            waker.request_id = ask.request_id  # a rejoin gives it a new one
            got = await self._attempt(ask, ask.request_id, candidates)
            if isinstance(got, Reservation):
                return got
            now = anyio.current_time()
            if now >= deadline:
                await self._leave(ask, "timeout")
                raise ReservationTimeout(ask.hub_id, ask.owner, ask.wait_s, ask.request_id)
            if got == LOST or ask.lost:
                await self._rejoin(ask)
            await waker.wait(min(self.recheck, deadline - now))

    async def _join(self, ask: Ask) -> None:
        await self.log.change(
            ask.hub_id, lambda v, at: rules.join(v, ask.at(at), at), ask.request_id
        )
        ask.waiting, ask.lost = True, False

    async def _rejoin(self, ask: Ask) -> None:
        # Our heartbeat ran out and someone dropped us (a stalled process):
        # the place is gone; join again at the tail under a new request id.
        ask.request_id = uuid.uuid4().hex
        await self._join(ask)

    async def _heartbeat(self, ask: Ask) -> None:
        """Renew every ``heartbeat/3`` while waiting — beside the attempts, so
        a slow attempt never lets a live waiter's deadline pass."""
        while True:
            await anyio.sleep(ask.heartbeat_s / 3)
            request_id = ask.request_id
            if ask.waiting:
                await self._renew(ask, request_id)

    async def _renew(self, ask: Ask, request_id: str) -> None:
        """One beat: its renewal lands, or the place is found gone, or the
        backend is down (the next beat tries again).  A renewal that loses
        every race tries again at once: waiting out a beat after a lost
        round would leave a live waiter, on a busy queue, a deadline that
        one more lost round lets pass — and others would drop it."""
        while ask.waiting and request_id == ask.request_id:
            try:
                change = await self.log.change(
                    ask.hub_id, functools.partial(_renewal, request_id), request_id
                )
            except QueueContention:
                continue
            except EventStoreError:
                return  # the next beat tries again; the attempts report the outage
            if change is None and ask.waiting and request_id == ask.request_id:
                ask.lost = True
            return

    async def _leave(self, ask: Ask, reason: str) -> None:
        """Record that the request left; shielded, so a cancelled caller
        still leaves the queue cleanly (or, failing that, its heartbeat
        simply runs out)."""
        ask.waiting = False
        with anyio.CancelScope(shield=True), anyio.move_on_after(CLEANUP_S):
            try:
                await self.log.change(
                    ask.hub_id,
                    lambda v, at: rules.abandon(v, ask.request_id, reason, at),
                    ask.request_id,
                )
            except EventStoreError:
                if reason == "timeout":
                    raise

    # --- one attempt --------------------------------------------------------------

    async def _attempt(
        self, ask: Ask, joined: str | None, candidates: Sequence[Candidate]
    ) -> Reservation | str | None:
        """A grant, LOST (the request is no longer live in the queue) or None."""
        view = await self.log.view(ask.hub_id)
        at = await self.log.lower(view)
        mine = view.find(joined) if joined else None
        if joined and (mine is None or mine.expires_at <= at):
            return LOST
        for candidate in self._usable(ask, candidates):
            if not await self._has_room(view, joined, candidate, at):
                continue
            lease = await self._lease(ask, candidate)
            if lease is None:
                continue
            return await self._record(ask, mine, candidate, lease)
        return None

    def _usable(self, ask: Ask, candidates: Sequence[Candidate]) -> list[Candidate]:
        usable = [
            c
            for c in candidates
            if c.instance.is_available and matches(ask.requirements, c.instance)
        ]
        # The least loaded first, as Gleitzeit's get_instance does.
        return sorted(usable, key=lambda c: (c.instance.metrics.active_connections, c.instance.id))

    async def _has_room(
        self, view: QueueView, joined: str | None, candidate: Candidate, at: datetime
    ) -> bool:
        ahead = rules.claimants(view, joined, candidate.instance, at)
        if not ahead:
            return True  # the lease itself says whether a slot is free
        holders = await self.leases.holders(view.hub_id, candidate.instance.id)
        return candidate.capacity - len(holders) > len(ahead)

    async def _lease(self, ask: Ask, candidate: Candidate) -> Lease | None:
        try:
            return await self.leases.acquire(
                ask.hub_id,
                candidate.instance.id,
                ask.owner,
                ttl=ask.ttl_s,
                capacity=candidate.capacity,
                correlation_id=ask.request_id,
            )
        except CapacityMismatch:
            return None  # its max_concurrent changed: its lease needs a new id first

    async def _record(
        self, ask: Ask, mine: QueuedRequest | None, candidate: Candidate, lease: Lease
    ) -> Reservation | None:
        """Record the grant if the queue (as it is now) still entitles it;
        else give the lease back.  A lease never outlives a failed record."""
        free = lease.slots_left + 1

        def decide(view: QueueView, at: datetime) -> rules.Change | None:
            request = mine if mine is not None else ask.at(at)
            return rules.grant(
                view, request, joined=mine is not None, instance=candidate.instance,
                token=lease.token, free=free, at=at,
            )  # fmt: skip

        try:
            change = await self.log.change(ask.hub_id, decide, ask.request_id)
        except BaseException:
            await self._give_back(lease)
            raise
        if change is None:
            await self._give_back(lease)
            return None
        ask.waiting = False
        granted = change.events[-1]
        assert isinstance(granted, rules.RequestGranted)
        waited = (granted.decided_at - granted.queued_at).total_seconds()
        return Reservation(
            request_id=ask.request_id,
            instance_id=candidate.instance.id,
            lease=lease,
            waited_s=waited,
        )

    async def _give_back(self, lease: Lease) -> None:
        with anyio.CancelScope(shield=True), anyio.move_on_after(CLEANUP_S):
            try:
                await self.leases.release(lease.hub_id, lease.resource_id, lease.owner, lease.token)
            except EventStoreError:
                pass  # it runs out by its ttl

    def _ask(
        self,
        hub_id: str,
        requirements: Requirements | Mapping[str, Any] | None,
        owner_id: str,
        ttl: float,
        wait: float,
        heartbeat: float,
    ) -> Ask:
        if not isinstance(owner_id, str) or not owner_id:
            raise InvalidReservation(f"owner_id must be a non-empty str, got {owner_id!r}")
        checks = (("ttl", ttl, None), ("wait", wait, 0.0), ("heartbeat", heartbeat, None))
        for name, value, least in checks:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidReservation(f"{name} must be a number of seconds, got {value!r}")
            if not math.isfinite(value) or (value <= 0 if least is None else value < least):
                raise InvalidReservation(f"{name} out of range: {value!r}")
        return Ask(
            hub_id=hub_id,
            request_id=uuid.uuid4().hex,
            owner=owner_id,
            requirements=requirements_of(requirements),
            ttl_s=float(ttl),
            heartbeat_s=float(heartbeat),
            wait_s=float(wait),
        )


def _renewal(request_id: str, view: QueueView, at: datetime) -> rules.Change | None:
    return rules.renew(view, request_id, at)
