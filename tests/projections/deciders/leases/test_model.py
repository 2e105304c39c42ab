"""The lease rules against a model, with a clock the test moves.

A hypothesis state machine drives a ``LeaseService`` on a memory store whose
clock (``now()`` and every ``recorded_at``) is the test's, so expiry is exact
and needs no sleeping.  It acquires (with the resource's capacity and with
others), renews and releases live, expired and never-granted tokens, as
holders and as others, and moves the clock; after each step the service, the
model, the lock-table fold and the log-only checker must agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from adapters.memory import MemoryEventStore
from eventstore import streams
from projections import HubProjection, fold
from projections.deciders.leases import BackendClock, CapacityMismatch, LeaseService
from tests.projections.deciders.leases.checker import check

HUB = "pool"
BASE = datetime(2026, 1, 1, tzinfo=UTC)
resources = st.sampled_from(["r1", "r2"])
owners = st.sampled_from(["a", "b", "c"])
ttls = st.sampled_from([1.0, 2.0, 5.0])
capacities = st.sampled_from([1, 2, 3])


@dataclass
class ModelLock:
    capacity: int | None = None
    version: int = 0
    holders: dict[int, tuple[str, datetime]] = field(default_factory=dict)

    def expire(self, now: datetime) -> None:
        """What any change records first: the leases run out by ``now``."""
        gone = [t for t, (_, ends) in self.holders.items() if ends <= now]
        for token in gone:
            del self.holders[token]
        self.version += len(gone)

    def held(self, owner: str, token: int, now: datetime) -> bool:
        return (
            token in self.holders
            and self.holders[token][0] == owner
            and (self.holders[token][1] > now)
        )


class Leases(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.seconds = 0.0
        self.store = MemoryEventStore(clock=lambda: BASE + timedelta(seconds=self.seconds))
        clock = BackendClock(self.store, monotonic=lambda: self.seconds, drift=0.0)
        self.leases = LeaseService(self.store, clock=clock)
        self.model: dict[str, ModelLock] = {}
        self.tokens: list[int] = [1, 2]
        self._portal_cm = start_blocking_portal()
        self.portal: BlockingPortal = self._portal_cm.__enter__()

    @property
    def now(self) -> datetime:
        return BASE + timedelta(seconds=self.seconds)

    def lock(self, resource: str) -> ModelLock:
        return self.model.setdefault(resource, ModelLock())

    @rule(dt=st.sampled_from([0.0, 0.5, 1.0, 2.0, 6.0]))
    def advance(self, dt: float) -> None:
        self.seconds += dt

    @rule(resource=resources, owner=owners, ttl=ttls, capacity=capacities)
    def acquire(self, resource: str, owner: str, ttl: float, capacity: int) -> None:
        lock = self.lock(resource)
        try:
            lease = self.portal.call(self._acquire, resource, owner, ttl, capacity)
        except CapacityMismatch as exc:
            assert lock.capacity not in (None, capacity) and exc.fixed == lock.capacity
            return
        assert lock.capacity in (None, capacity)
        live = sum(1 for _, ends in lock.holders.values() if ends > self.now)
        if live >= capacity:
            assert lease is None
            return
        lock.expire(self.now)
        lock.capacity, lock.version = capacity, lock.version + 1
        lock.holders[lock.version] = (owner, self.now + timedelta(seconds=ttl))
        assert lease is not None
        assert (lease.token, lease.owner, lease.expires_at) == (
            lock.version,
            owner,
            self.expiry(ttl),
        )
        assert lease.slots_left == capacity - len(lock.holders)
        self.tokens.append(lease.token)

    async def _acquire(self, resource: str, owner: str, ttl: float, capacity: int) -> object:
        return await self.leases.acquire(HUB, resource, owner, ttl=ttl, capacity=capacity)

    @rule(resource=resources, owner=owners, pick=st.integers(0, 50), ttl=ttls)
    def renew(self, resource: str, owner: str, pick: int, ttl: float) -> None:
        lock, token = self.lock(resource), self.token(pick)
        renewed = self.portal.call(self._renew, resource, owner, token, ttl)
        if not lock.held(owner, token, self.now):
            assert renewed is None
            return
        lock.expire(self.now)
        lock.version += 1
        lock.holders[token] = (owner, self.expiry(ttl))
        assert renewed is not None and (renewed.token, renewed.expires_at) == (
            token,
            self.expiry(ttl),
        )

    async def _renew(self, resource: str, owner: str, token: int, ttl: float) -> object:
        return await self.leases.renew(HUB, resource, owner, token, ttl=ttl)

    @rule(resource=resources, owner=owners, pick=st.integers(0, 50))
    def release(self, resource: str, owner: str, pick: int) -> None:
        lock, token = self.lock(resource), self.token(pick)
        released = self.portal.call(self._release, resource, owner, token)
        assert released == lock.held(owner, token, self.now)
        if released:
            lock.expire(self.now)
            lock.version += 1
            del lock.holders[token]

    async def _release(self, resource: str, owner: str, token: int) -> bool:
        return await self.leases.release(HUB, resource, owner, token)

    @rule(resource=resources)
    def reap(self, resource: str) -> None:
        lock = self.lock(resource)
        before = lock.version
        lock.expire(self.now)
        assert self.portal.call(self._reap, resource) == lock.version - before

    async def _reap(self, resource: str) -> int:
        return await self.leases.reap(HUB, resource)

    @rule(resource=resources, pick=st.integers(0, 50))
    def check_token(self, resource: str, pick: int) -> None:
        token = self.token(pick)
        held = token in self.lock(resource).holders and self.lock(resource).holders[token][1] > (
            self.now
        )
        assert self.portal.call(self.leases.check_token, HUB, resource, token) == held

    @invariant()
    def service_model_fold_and_checker_agree(self) -> None:
        events = self.portal.call(self._log)
        state = fold(HubProjection(), events)
        for resource, lock in self.model.items():
            live = {(o, t, ends) for t, (o, ends) in lock.holders.items() if ends > self.now}
            holders = self.portal.call(self.leases.holders, HUB, resource)
            assert {(h.owner, h.token, h.expires_at) for h in holders} == live
            version = self.portal.call(self.store.stream_version, HUB, streams.lease(resource))
            assert version == lock.version
            if resource in state.locks:
                folded = state.locks[resource].live(self.now)
                assert {(h.owner, h.token, h.expires_at) for h in folded} == live
        assert state.meta.anomaly_counts == {}
        assert check(events).problems == []

    async def _log(self) -> list:
        return [e async for e in self.store.read_log(HUB)]

    def token(self, pick: int) -> int:
        # mostly tokens once granted (live, expired, released), sometimes never granted
        return self.tokens[pick % len(self.tokens)] if pick < 45 else pick

    def expiry(self, ttl: float) -> datetime:
        return self.now + timedelta(seconds=ttl)

    def teardown(self) -> None:
        self._portal_cm.__exit__(None, None, None)


Leases.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestLeaseRules = Leases.TestCase
