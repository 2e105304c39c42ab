"""The queue rules against a model, with a clock the test moves.

A hypothesis state machine drives the queue's log (``QueueLog``: read the
last event, decide by the backend's clock, append expecting its version) on
a memory store whose clock is the test's, so heartbeat deadlines are exact
and need no sleeping.  Requests with differing needs join, renew, leave and
ask for slots on instances with some free slots; after each step the queue
the log says must be the model's, and a grant happen exactly when the
model's FIFO rule allows it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from adapters.memory import MemoryEventStore
from eventstore.events import Requirements
from eventstore.values import ResourceStatus, ResourceType
from projections import InstanceState
from projections.deciders.leases import BackendClock
from projections.deciders.queue import matches, rules
from projections.deciders.queue.log import QueueLog
from projections.deciders.queue.service import Ask

HUB = "pool"
BASE = datetime(2026, 1, 1, tzinfo=UTC)
NEEDS = {"any": Requirements(), "gpu": Requirements(tags=("gpu",))}
INSTANCES = {
    name: InstanceState(
        id=name,
        name=name,
        resource_type=ResourceType.OLLAMA,
        endpoint="http://x",
        status=ResourceStatus.HEALTHY,
        tags=frozenset(tags),
        created_at=BASE,
        updated_at=BASE,
        registered_at=BASE,
    )
    for name, tags in (("cpu", ()), ("gpu", ("gpu",)))
}


class Queue(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.seconds = 0.0
        self.store = MemoryEventStore(clock=lambda: self.now)
        clock = BackendClock(self.store, monotonic=lambda: self.seconds, drift=0.0)
        self.log = QueueLog(self.store, clock)
        self.model: list[tuple[str, str, datetime]] = []  # (id, needs, expires_at)
        self.count = 0
        self._portal_cm = start_blocking_portal()
        self.portal: BlockingPortal = self._portal_cm.__enter__()

    @property
    def now(self) -> datetime:
        return BASE + timedelta(seconds=self.seconds)

    def teardown(self) -> None:
        self._portal_cm.__exit__(None, None, None)

    def change(self, decide: Any) -> rules.Change | None:
        return self.portal.call(self.log.change, HUB, decide, None)

    def expire(self) -> None:
        self.model = [w for w in self.model if w[2] > self.now]

    def ids(self) -> list[str]:
        return [w[0] for w in self.model] + ["never-queued"]

    @rule(dt=st.sampled_from([0.0, 0.4, 1.0, 2.5]))
    def advance(self, dt: float) -> None:
        self.seconds += dt

    @rule(needs=st.sampled_from(sorted(NEEDS)), heartbeat=st.sampled_from([1.0, 2.0]))
    def join(self, needs: str, heartbeat: float) -> None:
        self.count += 1
        ask = Ask(HUB, f"r{self.count}", "o", NEEDS[needs], ttl_s=5, heartbeat_s=heartbeat,
                  wait_s=9)  # fmt: skip
        self.change(lambda view, at: rules.join(view, ask.at(at), at))
        self.expire()
        self.model.append((ask.request_id, needs, self.now + timedelta(seconds=heartbeat)))

    @rule(data=st.data())
    def renew(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(self.ids()))
        live = any(w[0] == rid and w[2] > self.now for w in self.model)
        done = self.change(lambda view, at: rules.renew(view, rid, at))
        assert (done is not None) == live
        if live:
            self.expire()
            self.model = [(i, n, self.now + timedelta(seconds=self.heartbeat_of(i)))
                          if i == rid else (i, n, e) for i, n, e in self.model]  # fmt: skip

    def heartbeat_of(self, rid: str) -> float:
        view = self.portal.call(self.log.view, HUB)
        mine = view.find(rid)
        assert mine is not None
        return mine.heartbeat_s

    @rule(data=st.data(), reason=st.sampled_from(["timeout", "cancelled"]))
    def abandon(self, data: st.DataObject, reason: str) -> None:
        rid = data.draw(st.sampled_from(self.ids()))
        live = any(w[0] == rid and w[2] > self.now for w in self.model)
        done = self.change(lambda view, at: rules.abandon(view, rid, reason, at))
        assert (done is not None) == live
        if live:
            self.expire()
            self.model = [w for w in self.model if w[0] != rid]

    @rule(data=st.data(), instance=st.sampled_from(sorted(INSTANCES)), free=st.integers(1, 2))
    def grant(self, data: st.DataObject, instance: str, free: int) -> None:
        rid = data.draw(st.sampled_from(self.ids()))
        target = INSTANCES[instance]
        view = self.portal.call(self.log.view, HUB)
        mine = view.find(rid)
        self.expire()
        index = next((k for k, w in enumerate(self.model) if w[0] == rid), None)
        ahead = [w for w in self.model[: index or 0] if matches(NEEDS[w[1]], target)]
        allowed = index is not None and len(ahead) < free

        def decide(view: object, at: datetime) -> rules.Change | None:
            assert mine is not None
            return rules.grant(view, mine, joined=True, instance=target, token=1, free=free,
                               at=at)  # type: ignore[arg-type]  # fmt: skip

        done = self.change(decide) if mine is not None else None
        assert (done is not None) == allowed, (rid, instance, free, self.model)
        if allowed:
            self.model = [w for w in self.model if w[0] != rid]

    @rule()
    def reap(self) -> None:
        self.change(rules.reap)
        self.expire()

    @invariant()
    def the_log_holds_the_model(self) -> None:
        view = self.portal.call(self.log.view, HUB)
        live = [(w.request_id, w.expires_at) for w in view.live(self.now)]
        assert live == [(i, e) for i, _, e in self.model if e > self.now]


Queue.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
test_queue_rules_match_the_model = Queue.TestCase
