"""The third use's promise, model-based: whatever a hub lives through —
registrations, updates, health checks and status changes, samples,
deregistration and re-registration, snapshots, retention, restarts of the
process (every in-memory object dropped, the store reopened), leases
acquired, renewed, released and (on a clock the test moves) expired, a
corrupt record — the live read models equal a rebuild from position 0, equal a
snapshot plus the tail, equal the model's own state; ``state_at`` any
earlier position equals the model's state at that step; and nothing but an
EventStoreError ever escapes.

Fewer examples on server backends in the default suite; ``HUBLOG_LONG=1``
runs many more.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import anyio.from_thread
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from adapters import open_store, readmodel_store_for
from adapters.memory import MemoryEventStore
from eventstore import EventStore, InstanceUpdated, ResourceStatus
from projections import HealthProjection, HubProjection, ProjectionRunner, ReadModelStore, state_at
from projections.deciders.leases import LeaseService
from projections.deciders.retention import retain
from tests import services
from tests.projections.script import HUB, Script, folded_rows, stored_rows
from tests.projections.test_runner import FakeHealthChecked, append_foreign

LONG = os.environ.get("HUBLOG_LONG", "") not in ("", "0")
IDS = ("a", "b", "c")
RESOURCES = ("gpu-1", "gpu-2")
OWNERS = ("node-a", "node-b", "node-c")
CAPACITY = 2
TTL = 3600.0  # nothing runs out by itself during a test: expiry is the clock rule's
S = ResourceStatus


@dataclass(frozen=True)
class Modelled:
    """What the model says of one instance."""

    registered: bool
    status: ResourceStatus
    incarnation: int
    name: str


class HubLife(RuleBasedStateMachine):
    """One hub's life on one backend (``kind`` set by each subclass)."""

    kind: ClassVar[str] = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.exits = ExitStack()
        self.portal = self.exits.enter_context(anyio.from_thread.start_blocking_portal())
        self.url = self._fresh_url()
        self.model: dict[str, Modelled] = {}
        self.locks: dict[str, dict[int, str]] = {r: {} for r in RESOURCES}  # token -> owner
        self.history: list[tuple[int, dict[str, Modelled], dict[str, dict[int, str]]]] = []
        self.now = datetime(2026, 12, 1, tzinfo=UTC)  # memory's clock, moved by the test
        self.corrupt = 0
        self._open()

    def _fresh_url(self) -> str:
        if self.kind == "memory":
            return "memory://"
        if self.kind == "sqlite":
            directory = self.exits.enter_context(_tmpdir())
            return f"sqlite:///{directory / 'hublog.db'}"
        if self.kind == "postgresql":
            return self.exits.enter_context(services.postgres_schema())
        return self.exits.enter_context(services.redis_prefix())

    def _open(self) -> None:
        if self.kind == "memory" and not hasattr(self, "store"):
            self.store = MemoryEventStore(clock=lambda: self.now)
        elif self.kind != "memory":
            self.store: EventStore = self.portal.call(_opened, self.url)
        self.leases = LeaseService(self.store)
        # memory:// lives in this process: a restart keeps its log (the one
        # thing a real process would find again) and loses the read models.
        self.storage: ReadModelStore = readmodel_store_for(self.store)
        self.script = Script(self.store, HUB)
        self.script.failures = {iid: 0 for iid in self.model}

    def _close(self, *, final: bool = False) -> None:
        self.portal.call(self.storage.close)
        if self.kind != "memory" or final:
            self.portal.call(self.store.close)

    def run(self, fn: Any, *args: Any) -> Any:
        return self.portal.call(fn, *args)

    def teardown(self) -> None:
        self._close(final=True)
        self.exits.close()

    def _record(self) -> None:
        head = self.run(self.store.head, HUB)
        self.history.append((head, dict(self.model), _copy(self.locks)))

    # --- what a hub lives through --------------------------------------------

    @initialize()
    def start(self) -> None:
        self.run(self.script.started)
        self._record()

    @rule(iid=st.sampled_from(IDS))
    def register(self, iid: str) -> None:
        if self.model.get(iid, _GONE).registered:
            return
        before = self.model.get(iid)
        self.run(self.script.register, iid)
        incarnation = 1 if before is None else before.incarnation + 1
        self.model[iid] = Modelled(True, S.UNKNOWN, incarnation, iid)
        self._record()

    @rule(iid=st.sampled_from(IDS), ok=st.booleans())
    def check(self, iid: str, ok: bool) -> None:
        if self.model.get(iid, _GONE).registered:
            self.run(self.script.check, iid, ok)
            self._record()

    @rule(iid=st.sampled_from(IDS), to=st.sampled_from([S.HEALTHY, S.DEGRADED, S.UNHEALTHY]))
    def change(self, iid: str, to: ResourceStatus) -> None:
        now = self.model.get(iid, _GONE)
        if now.registered and now.status != to:
            self.run(self.script.change, iid, now.status, to)
            self.model[iid] = replace(now, status=to)
            self._record()

    @rule(iid=st.sampled_from(IDS), name=st.sampled_from(["x", "y"]))
    def update(self, iid: str, name: str) -> None:
        now = self.model.get(iid, _GONE)
        if now.registered and now.name != name:
            self.run(self.script.append, f"instance/{iid}", InstanceUpdated(name=name))
            self.model[iid] = replace(now, name=name)
            self._record()

    @rule(iid=st.sampled_from(IDS), minutes_ago=st.integers(0, 60 * 30))
    def sample(self, iid: str, minutes_ago: int) -> None:
        if self.model.get(iid, _GONE).registered:
            at = self.run(self.store.now) - timedelta(minutes=minutes_ago)
            self.run(self.script.sample, iid, at)
            self._record()

    @rule(iid=st.sampled_from(IDS))
    def deregister(self, iid: str) -> None:
        now = self.model.get(iid, _GONE)
        if now.registered:
            self.run(self.script.deregister, iid)
            self.model[iid] = replace(now, registered=False, status=S.STOPPED)  # the fold says so
            self._record()

    @rule(resource=st.sampled_from(RESOURCES), owner=st.sampled_from(OWNERS))
    def acquire(self, resource: str, owner: str) -> None:
        lease = self.run(
            lambda: self.leases.acquire(HUB, resource, owner, ttl=TTL, capacity=CAPACITY)
        )
        held = self.locks[resource]
        assert (lease is not None) == (len(held) < CAPACITY), (resource, held)
        if lease is not None:
            assert all(lease.token > token for token in held)  # fencing tokens only rise
            held[lease.token] = owner
            self._record()

    @rule(resource=st.sampled_from(RESOURCES), stale=st.booleans())
    def release(self, resource: str, stale: bool) -> None:
        held = self.locks[resource]
        if not held:
            return
        token, owner = min(held.items())
        if stale:  # a token nobody holds, or a holder that is not the owner: refused
            refused = self.run(lambda: self.leases.release(HUB, resource, owner + "-x", token))
            assert refused is False
            return
        assert self.run(lambda: self.leases.release(HUB, resource, owner, token)) is True
        del held[token]
        self._record()

    @rule(resource=st.sampled_from(RESOURCES))
    def renew(self, resource: str) -> None:
        held = self.locks[resource]
        if held:
            token, owner = max(held.items())
            lease = self.run(lambda: self.leases.renew(HUB, resource, owner, token, ttl=TTL))
            assert lease is not None and lease.token == token
            self._record()

    @precondition(lambda self: self.kind == "memory")
    @rule()
    def time_passes(self) -> None:
        """Every lease runs out; the next touch (here: the reaper) records it."""
        self.now += timedelta(seconds=TTL + 1)
        # The service calibrates the backend clock now and then; a jump of an
        # hour is what a fresh calibration (a restarted process) sees at once.
        self.leases = LeaseService(self.store)
        for resource in RESOURCES:
            self.run(lambda r=resource: self.leases.reap(HUB, r))
            self.locks[resource] = {}
        self._record()

    @rule()
    def corrupt_a_record(self) -> None:
        stream = f"instance/{IDS[self.corrupt % len(IDS)]}"
        self.run(append_foreign, self.store, stream, [FakeHealthChecked()])
        self.corrupt += 1
        self._record()

    @rule()
    def snapshot(self) -> None:
        runner = ProjectionRunner(self.store, self.storage, HubProjection(), HUB, snapshot_every=1)
        self.run(runner.catch_up)

    @rule()
    def run_retention(self) -> None:
        self.run(lambda: retain(self.store, self.storage, HUB))

    @rule()
    def restart(self) -> None:
        self._close()
        self._open()

    # --- what must always hold ------------------------------------------------

    @invariant()
    def live_equals_rebuild_for_every_model(self) -> None:
        for projection in (HubProjection(), HealthProjection()):
            runner = ProjectionRunner(self.store, self.storage, projection, HUB)
            self.run(runner.catch_up)
            stored = self.run(stored_rows, self.storage, projection)
            assert stored == self.run(folded_rows, self.store, projection), projection.name

    @invariant()
    def snapshot_plus_tail_equals_the_model(self) -> None:
        head = self.run(self.store.head, HUB)
        with_snapshots = self.run(lambda: state_at(self.store, self.storage, HUB, position=head))
        from_zero = self.run(lambda: state_at(self.store, None, HUB, position=head))
        assert with_snapshots.instances == from_zero.instances
        assert with_snapshots.locks == from_zero.locks
        assert _as_model(with_snapshots.instances) == self.model
        assert _holders(with_snapshots.locks) == self.locks

    @invariant()
    def every_earlier_step_is_what_the_model_was(self) -> None:
        for position, then, locks in self.history[-3:]:
            view = self.run(lambda p=position: state_at(self.store, self.storage, HUB, position=p))
            assert _as_model(view.instances) == then, f"at position {position}"
            assert _holders(view.locks) == locks, f"at position {position}"


_GONE = Modelled(False, S.UNKNOWN, 0, "")


def _as_model(instances: dict[str, Any]) -> dict[str, Modelled]:
    return {
        iid: Modelled(i.registered, i.status, i.incarnation, i.name) for iid, i in instances.items()
    }


def _holders(locks: dict[str, Any]) -> dict[str, dict[int, str]]:
    found: dict[str, dict[int, str]] = {r: {} for r in RESOURCES}
    for resource, lock in locks.items():
        found[resource] = {h.token: h.owner for h in lock.holders}
    return found


def _copy(locks: dict[str, dict[int, str]]) -> dict[str, dict[int, str]]:
    return {resource: dict(held) for resource, held in locks.items()}


async def _opened(url: str) -> EventStore:
    return await open_store(url)


class _tmpdir:
    def __enter__(self) -> Path:
        import tempfile

        self._dir = tempfile.TemporaryDirectory(prefix="hublog-model-")
        return Path(self._dir.name)

    def __exit__(self, *exc: object) -> None:
        self._dir.cleanup()


def _machine(kind: str, examples: int) -> type[HubLife]:
    machine = type(f"HubLife_{kind}", (HubLife,), {"kind": kind})
    machine.TestCase.settings = settings(  # type: ignore[attr-defined]
        max_examples=examples * (10 if LONG else 1),
        stateful_step_count=25 if LONG else 12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    return machine


test_memory = _machine("memory", 25).TestCase
test_sqlite = _machine("sqlite", 8).TestCase
test_postgresql = pytest.mark.external_service(_machine("postgresql", 4).TestCase)
test_redis = pytest.mark.external_service(_machine("redis", 4).TestCase)
