"""A checker of lease safety that reads only the log.

Given a hub's events, it proves per resource (or lists what it disproves):

* tokens: every grant's token is its own stream version, strictly rising;
* capacity: one capacity for the resource's whole life;
* the clock: every decision was made between the previous decision and its
  own ``recorded_at`` (``tests/contest/checker.py``), and every expiry
  recorded no earlier than the lease's end;
* the state: each event's holders-after equals the fold of everything before
  (``tests/contest/checker.py``);
* overlap: a lease occupies ``[grant recorded_at, end)``, ``end`` being its
  release's ``recorded_at`` or its last ``expires_at``, whichever is first;
  at no instant do more than ``capacity`` of these overlap.  (The maximum is
  reached at some grant, so checking at every grant is checking always.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from eventstore import streams
from eventstore.envelope import RecordedEvent
from eventstore.events import LockExpired, LockGranted, LockReleased, LockRenewed
from tests.contest.checker import DecisionClock, LogReport, state_after


@dataclass
class Tenure:
    owner: str
    token: int
    start: datetime
    expires_at: datetime
    released_at: datetime | None = None
    ended_by: str = ""  # "released" | "expired" | "" (still open)

    @property
    def end(self) -> datetime:
        if self.released_at is not None and self.released_at < self.expires_at:
            return self.released_at
        return self.expires_at


@dataclass
class Resource:
    name: str
    capacity: int | None = None
    tenures: dict[int, Tenure] = field(default_factory=dict)
    holders: dict[int, Tenure] = field(default_factory=dict)
    last_token: int = 0
    clock: DecisionClock = field(default_factory=DecisionClock)


@dataclass
class Report(LogReport):
    resources: dict[str, Resource] = field(default_factory=dict)
    correlations: set[str] = field(default_factory=set)

    @property
    def grants(self) -> int:
        return sum(len(r.tenures) for r in self.resources.values())


def check(events: Iterable[RecordedEvent]) -> Report:
    report = Report()
    for event in events:
        if event.correlation_id is not None:
            report.correlations.add(event.correlation_id)
        if streams.category_of(event.stream) != "lock":
            continue
        name = streams.entity_of(event.stream) or ""
        resource = report.resources.setdefault(name, Resource(name))
        for problem in _apply(resource, event):
            report.problems.append(f"{name} v{event.version}: {problem}")
    for resource in report.resources.values():
        report.problems.extend(f"{resource.name}: {p}" for p in _overlaps(resource))
    return report


def _apply(r: Resource, event: RecordedEvent) -> list[str]:
    e, at = event.event, event.recorded_at
    if not isinstance(e, LockGranted | LockRenewed | LockReleased | LockExpired):
        return [f"not a lock event: {event.type}"]
    if e.decided_at is None or e.holders is None:
        return ["written without decided_at / holders"]
    problems = r.clock.check(e.decided_at, at)
    if r.capacity is not None and e.capacity != r.capacity:
        problems.append(f"capacity {e.capacity} after {r.capacity}")
    r.capacity = r.capacity or e.capacity
    held = r.holders.get(e.token)
    if isinstance(e, LockGranted):
        if e.token != event.version or e.token <= r.last_token:
            problems.append(f"token {e.token} at version {event.version} after {r.last_token}")
        r.last_token = max(r.last_token, e.token)
        r.holders[e.token] = r.tenures[e.token] = Tenure(e.owner, e.token, at, e.expires_at)
    elif held is None or held.owner != e.owner:
        problems.append(f"{event.type} of token {e.token} by {e.owner!r}, not a holder")
    elif isinstance(e, LockRenewed):
        if held.expires_at <= e.decided_at:
            problems.append(f"renewed at {e.decided_at}, after its end {held.expires_at}")
        held.expires_at = e.expires_at
    elif isinstance(e, LockReleased):
        if held.expires_at <= e.decided_at:
            problems.append(f"released at {e.decided_at}, after its end {held.expires_at}")
        held.released_at, held.ended_by = at, "released"
        del r.holders[e.token]
    else:
        if at < held.expires_at or e.decided_at < held.expires_at:
            problems.append(f"expired at {at}, before its end {held.expires_at}")
        held.ended_by = "expired"
        del r.holders[e.token]
    after = sorted((h.owner, h.token, h.expires_at) for h in e.holders)
    mine = sorted((t.owner, t.token, t.expires_at) for t in r.holders.values())
    return problems + state_after("holders", after, mine)


def _overlaps(r: Resource) -> list[str]:
    # A sweep over [start, end): at equal instants an end comes before a start.
    # (A grant recorded after its own end — an append slower than the ttl —
    # never held anything.)
    held = [t for t in r.tenures.values() if t.end > t.start]
    edges = sorted([(t.start, 1, t.token) for t in held] + [(t.end, 0, t.token) for t in held])
    live: set[int] = set()
    problems = []
    for at, is_start, token in edges:
        if not is_start:
            live.discard(token)
            continue
        live.add(token)
        if r.capacity is not None and len(live) > r.capacity:
            problems.append(
                f"{len(live)} leases {sorted(live)} live at {at} (capacity {r.capacity})"
            )
    return problems
