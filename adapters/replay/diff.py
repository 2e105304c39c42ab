"""``hublog diff A B``: what changed in a hub between two points: instances
that appeared or disappeared, status changes, lease changes, each with the
events of the log between A and B that are responsible.

On a log that starts late (:mod:`.coverage`) an instance registered before
it is never "appeared" or "disappeared": its status changes are read from
the log, as ``state`` shows them."""

from __future__ import annotations

import json
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from eventstore import RecordedEvent, streams
from eventstore.store import EventStore
from projections import HubView, ReadModelStore

from .coverage import coverage
from .errors import EmptyRange
from .filters import events_between
from .lines import json_line, text_line
from .state import registered_earlier, view_in_log
from .timeparse import Point

INSTANCE_TYPES = frozenset(
    {"InstanceRegistered", "InstanceDeregistered", "HealthChanged", "InstanceRecovered"}
)
LOCK_TYPES = frozenset({"LockGranted", "LockReleased", "LockExpired"})


@dataclass
class Change:
    kind: str  # appeared | disappeared | status | lease
    subject: str  # instance id or lease resource id
    before: str
    after: str
    events: list[RecordedEvent] = field(default_factory=list)
    via: list[str] = field(default_factory=list)
    """The statuses an instance went through between the points."""

    def as_json(self, hub_id: str, a: int, b: int) -> dict[str, Any]:
        return {
            "hub_id": hub_id,
            "from_position": a,
            "to_position": b,
            "kind": self.kind,
            "subject": self.subject,
            "before": self.before,
            "after": self.after,
            "via": self.via,
            "events": [json.loads(json_line(e)) for e in self.events],
        }

    def lines(self) -> list[str]:
        head = f"{self.kind:<11} {self.subject}: {self.before} -> {self.after}"
        if self.via:
            head += f" (in between: {', '.join(self.via)})"
        return [head, *("      " + text_line(e) for e in self.events)]


async def diff(
    store: EventStore, storage: ReadModelStore | None, hub_id: str, a: Point, b: Point
) -> tuple[HubView, HubView, list[Change]]:
    """Raises: EmptyRange when B is not after A; OutsideLog for a point the
    log does not cover."""
    before, after = (
        await view_in_log(store, storage, hub_id, a),
        await view_in_log(store, storage, hub_id, b),
    )
    if after.position < before.position:
        raise EmptyRange(
            f"empty range in hub {hub_id!r}: {b.text} (position {after.position}) comes before "
            f"{a.text} (position {before.position}); give the earlier point first"
        )
    changes = _instance_changes(before, after) + _lease_changes(before, after)
    if (await coverage(store, storage, hub_id)).partial:
        changes += await _earlier_changes(store, before, after)
    await _attach_events(store, hub_id, before.position, after.position, changes)
    return before, after, changes


def _instance_changes(a: HubView, b: HubView) -> list[Change]:
    changes = []
    for iid in sorted(set(a.instances) | set(b.instances)):
        old, new = a.instances.get(iid), b.instances.get(iid)
        was = old is not None and old.registered
        now = new is not None and new.registered
        if now and not was:
            changes.append(Change("appeared", iid, "absent", new.status.value if new else ""))
        elif was and not now:
            changes.append(Change("disappeared", iid, old.status.value if old else "", "absent"))
        elif old is not None and new is not None and old.status != new.status:
            changes.append(Change("status", iid, old.status.value, new.status.value))
    return changes


async def _earlier_changes(store: EventStore, a: HubView, b: HubView) -> list[Change]:
    """Status changes of instances registered before the log starts."""
    was = {e.instance_id: e.status for e in await registered_earlier(store, a)}
    changes = []
    for earlier in await registered_earlier(store, b):
        old = was.get(earlier.instance_id, "unknown")
        if old != earlier.status:
            changes.append(Change("status", earlier.instance_id, old, earlier.status))
    return changes


def _lease_changes(a: HubView, b: HubView) -> list[Change]:
    changes = []
    for rid in sorted(set(a.locks) | set(b.locks)):
        old = _holders(a, rid)
        new = _holders(b, rid)
        if old != new:
            changes.append(Change("lease", rid, ", ".join(old) or "free", ", ".join(new) or "free"))
    return changes


def _holders(view: HubView, resource: str) -> list[str]:
    lock = view.locks.get(resource)
    return [] if lock is None else sorted(f"{h.owner}#{h.token}" for h in lock.live(view.as_of))


async def _attach_events(
    store: EventStore, hub_id: str, start: int, end: int, changes: list[Change]
) -> None:
    """Give each change its events; an instance whose status changed and came
    back between the points is a change too (``healthy -> healthy``, with
    what it went through)."""
    by_stream: dict[str, Change] = {}
    for change in changes:
        name = change.subject
        key = streams.lease(name) if change.kind == "lease" else streams.instance(name)
        by_stream[key] = change
    if end <= start:
        return
    async with aclosing(events_between(store, hub_id, start, end)) as events:
        async for event in events:
            found = by_stream.get(event.stream)
            if found is None and event.type == "HealthChanged" and event.is_readable:
                payload: Any = event.event
                status = payload.from_status.value
                found = by_stream[event.stream] = Change(
                    "status", streams.entity_of(event.stream) or "", status, status
                )
                changes.append(found)
            wanted = LOCK_TYPES if event.stream.startswith("lock/") else INSTANCE_TYPES
            if found is not None and event.type in wanted:
                found.events.append(event)
    for change in changes:
        if change.kind == "status":
            change.via = _via(change)
    changes.sort(key=_order)


def _via(change: Change) -> list[str]:
    went: list[str] = [
        _to_status(e) for e in change.events if e.type == "HealthChanged" and e.is_readable
    ]
    return went[:-1] if went and went[-1] == change.after else went


def _to_status(event: RecordedEvent) -> str:
    payload: Any = event.event
    return str(payload.to_status.value)


def _order(change: Change) -> tuple[bool, str]:
    return change.kind == "lease", change.subject
