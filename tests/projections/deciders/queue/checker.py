"""A checker of the reservation queue that reads only the log.

Given a hub's events, it proves (or lists what it disproves):

* the clock: every queue decision was made between the previous queue
  decision's ``recorded_at`` and its own (``tests/contest/checker.py``);
* the state: each event's waiting-after equals the fold of everything
  before it (FIFO order: a request joins at the tail and never moves up
  past anyone but by others leaving; ``tests/contest/checker.py``);
* FIFO: a grant of a slot on instance I went to a live request with fewer
  live, older waiters that could use I than I had free slots (with one free
  slot: the oldest live waiter that could use it); ``free`` is what I's own
  ``LockGranted`` shows (capacity minus the other live holders), and that
  lease is the request's (same owner, correlation id = request id);
* once: a request is queued once and granted at most once, and a granted,
  abandoned or expired request never acts again;
* deadlines: a request is dropped (``RequestExpired``) only once its
  heartbeat deadline has passed, and renewed or granted only before it;
* capacity: the lease checker (``tests/projections/deciders/leases/checker.py``) over the same log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from eventstore import streams
from eventstore.envelope import RecordedEvent
from eventstore.events import (
    LockGranted,
    QueuedRequest,
    RequestAbandoned,
    RequestExpired,
    RequestGranted,
    RequestQueued,
    RequestRenewed,
)
from projections import HubProjection, InstanceState, fold
from projections.deciders.queue import matches
from tests.contest.checker import DecisionClock, LogReport, state_after
from tests.projections.deciders.leases import checker as lease_checker


@dataclass
class Request:
    request_id: str
    owner: str
    queued_at: datetime
    outcome: str = ""  # granted | timeout | cancelled | failed | expired | "" (waiting)
    instance_id: str | None = None
    token: int | None = None


@dataclass
class Report(LogReport):
    requests: dict[str, Request] = field(default_factory=dict)
    leases: lease_checker.Report = field(default_factory=lease_checker.Report)
    max_depth: int = 0

    @property
    def grants(self) -> int:
        return sum(r.outcome == "granted" for r in self.requests.values())

    def of(self, owner: str) -> list[Request]:
        return [r for r in self.requests.values() if r.owner == owner]


@dataclass
class _Queue:
    waiting: list[QueuedRequest] = field(default_factory=list)
    clock: DecisionClock = field(default_factory=DecisionClock)


def check(events: Sequence[RecordedEvent]) -> Report:
    report = Report(leases=lease_checker.check(events))
    report.problems.extend(f"leases: {p}" for p in report.leases.problems)
    instances = fold(HubProjection(), events).instances
    grants = _lease_grants(events)
    queue = _Queue()
    for event in events:
        if event.stream != streams.queue():
            continue
        for problem in _apply(queue, report, event, instances, grants):
            report.problems.append(f"queue v{event.version}: {problem}")
        report.max_depth = max(report.max_depth, len(queue.waiting))
    return report


def _lease_grants(events: Iterable[RecordedEvent]) -> dict[tuple[str, int], RecordedEvent]:
    return {
        (streams.entity_of(e.stream) or "", e.event.token): e
        for e in events
        if isinstance(e.event, LockGranted)
    }


def _apply(
    q: _Queue,
    report: Report,
    event: RecordedEvent,
    instances: dict[str, InstanceState],
    grants: dict[tuple[str, int], RecordedEvent],
) -> list[str]:
    e, at = event.event, event.recorded_at
    if not isinstance(e, RequestQueued | RequestRenewed | RequestGranted | RequestAbandoned
                      | RequestExpired):  # fmt: skip
        return [f"not a reservation event: {event.type}"]
    problems = q.clock.check(e.decided_at, at)
    t = e.decided_at
    if isinstance(e, RequestQueued):
        rid = e.request.request_id
        if rid in report.requests:
            problems.append(f"{rid} queued twice")
        report.requests[rid] = Request(rid, e.request.owner, e.request.queued_at)
        q.waiting.append(e.request)
    else:
        problems += _leaving(q, report, event, instances, grants, t)
    after = [(w.request_id, w.expires_at) for w in e.waiting]
    mine = [(w.request_id, w.expires_at) for w in q.waiting]
    return problems + state_after("waiting", after, mine)


def _leaving(
    q: _Queue,
    report: Report,
    event: RecordedEvent,
    instances: dict[str, InstanceState],
    grants: dict[tuple[str, int], RecordedEvent],
    t: datetime,
) -> list[str]:
    e = event.event
    assert isinstance(e, RequestRenewed | RequestGranted | RequestAbandoned | RequestExpired)
    index = next((i for i, w in enumerate(q.waiting) if w.request_id == e.request_id), None)
    if index is None:
        return [f"{event.type} of {e.request_id}, which is not waiting"]
    waiter = q.waiting[index]
    live = waiter.expires_at > t
    problems = []
    if isinstance(e, RequestExpired):
        if live:
            problems.append(
                f"{e.request_id} dropped at {t}, before its deadline {waiter.expires_at}"
            )
    elif not live:
        problems.append(f"{event.type} of {e.request_id} at {t}, after its deadline")
    if isinstance(e, RequestRenewed):
        q.waiting[index] = QueuedRequest(**{**_fields(waiter), "expires_at": e.expires_at})
        return problems
    if isinstance(e, RequestGranted):
        problems += _fifo(q.waiting[:index], waiter, event, instances, grants, t)
    del q.waiting[index]
    request = report.requests[e.request_id]
    request.outcome = (
        "granted" if isinstance(e, RequestGranted)
        else e.reason if isinstance(e, RequestAbandoned) else "expired"
    )  # fmt: skip
    if isinstance(e, RequestGranted):
        request.instance_id, request.token = e.instance_id, e.token
    return problems


def _fifo(
    older: list[QueuedRequest],
    waiter: QueuedRequest,
    event: RecordedEvent,
    instances: dict[str, InstanceState],
    grants: dict[tuple[str, int], RecordedEvent],
    t: datetime,
) -> list[str]:
    e = event.event
    assert isinstance(e, RequestGranted)
    instance = instances.get(e.instance_id)
    if instance is None or not matches(waiter.requirements, instance):
        return [f"{e.request_id} granted {e.instance_id}, which cannot serve it"]
    ahead = [w.request_id for w in older if w.expires_at > t and matches(w.requirements, instance)]
    problems = []
    if len(ahead) >= e.free:
        problems.append(f"{e.request_id} granted 1 of {e.free} free on {e.instance_id} "
                        f"ahead of older live waiters {ahead}")  # fmt: skip
    lease = grants.get((e.instance_id, e.token))
    if lease is None or lease.position > event.position:
        return [*problems, f"{e.request_id}: no earlier lease {e.token} on {e.instance_id}"]
    granted = lease.event
    assert isinstance(granted, LockGranted) and granted.holders is not None
    if granted.owner != waiter.owner or lease.correlation_id != e.request_id:
        problems.append(f"{e.request_id}: lease {e.token} is {granted.owner}'s")
    if granted.capacity - len(granted.holders) + 1 != e.free:
        problems.append(f"{e.request_id}: free {e.free}, but the lease left "
                        f"{granted.capacity - len(granted.holders)}")  # fmt: skip
    return problems


def _fields(waiter: QueuedRequest) -> dict[str, object]:
    return {name: getattr(waiter, name) for name in waiter.__struct_fields__}
