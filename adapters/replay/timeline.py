"""``hublog timeline --instance ID``: an instance's life read from its
streams: registrations (incarnations), health transitions with how long
each status lasted, recoveries, leases, deregistration."""

from __future__ import annotations

from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventstore import RecordedEvent, streams
from eventstore.store import EventStore

from .lines import HubClock, timestamp
from .timeparse import Point


@dataclass
class Entry:
    at: datetime
    position: int
    kind: str
    detail: str
    seconds: float | None = None
    """How long it lasted: a status until the next change, a lease until released."""

    def as_json(self, hub_id: str, instance_id: str) -> dict[str, Any]:
        return {
            "hub_id": hub_id,
            "instance": instance_id,
            "recorded_at": self.at.isoformat().replace("+00:00", "Z"),
            "position": self.position,
            "kind": self.kind,
            "detail": self.detail,
            "seconds": self.seconds,
        }

    def row(self) -> list[object]:
        lasted = "-" if self.seconds is None else duration(self.seconds)
        return [timestamp(self.at), self.position, self.kind, lasted, self.detail]


HEADERS = ("time (UTC)", "position", "what", "lasted", "details")


async def timeline(
    store: EventStore,
    hub_id: str,
    instance_id: str,
    since: Point | None = None,
    *,
    now: datetime | None = None,
) -> tuple[list[Entry], dict[str, int]]:
    """The entries in time order, and counts of health checks (total, failed).

    The current status lasts until ``now``: by default the end of the log,
    the hub's last event by the hub's clock (as the report measures one to
    its window's end).
    """
    events = await _events(store, hub_id, streams.instance(instance_id))
    events += await _events(store, hub_id, streams.lease(instance_id))
    events.sort(key=lambda e: e.position)
    start = None if since is None else await since.position_before(store, hub_id)
    clock = HubClock().prime(events)
    entries, checks = _entries(events, clock)
    if entries:
        end = now or await _end_of_log(store, hub_id, clock) or entries[-1].at
        _close_durations(entries, end)
    if start is not None:
        entries = [e for e in entries if e.position > start]
    return entries, checks


async def _events(store: EventStore, hub_id: str, stream: str) -> list[RecordedEvent]:
    async with aclosing(store.read_stream(hub_id, stream)) as events:
        return [e async for e in events]


async def _end_of_log(store: EventStore, hub_id: str, clock: HubClock) -> datetime | None:
    """When the hub's last event happened, by ``clock`` (None if the log has
    no event at its head)."""
    head = await store.head(hub_id)
    async with aclosing(store.read_log(hub_id, after=max(head - 1, 0), limit=1)) as events:
        async for event in events:
            return clock.at(event)
    return None


def _entries(events: list[RecordedEvent], clock: HubClock) -> tuple[list[Entry], dict[str, int]]:
    entries: list[Entry] = []
    checks = {"checks": 0, "failed": 0}
    incarnation = 0
    for e in events:
        data: Any = e.event
        at, pos = clock.at(e), e.position
        if not e.is_readable:  # before the type: a damaged payload has none of its fields
            entries.append(Entry(at, pos, "unreadable", f"{e.type} (kept in the log)"))
        elif e.type == "HealthChecked":
            checks["checks"] += 1
            checks["failed"] += not data.ok
        elif e.type == "InstanceRegistered":
            incarnation += 1
            entries.append(Entry(at, pos, "registered", f"incarnation {incarnation}: {data.name}"))
        elif e.type == "HealthChanged":
            detail = f"{data.from_status.value} -> {data.to_status.value} ({data.reason})"
            entries.append(Entry(at, pos, "health", detail))
        elif e.type == "RecoveryFailed":
            entries.append(
                Entry(at, pos, "recovery failed", f"attempt {data.attempt}: {data.error}")
            )
        elif e.type == "InstanceRecovered":
            entries.append(Entry(at, pos, "recovered", f"attempt {data.attempt} by {data.method}"))
        elif e.type == "InstanceDeregistered":
            entries.append(Entry(at, pos, "deregistered", data.reason or "-"))
        elif e.type in ("LockGranted", "LockReleased", "LockExpired", "LockRenewed"):
            kind = "lease " + e.type.removeprefix("Lock").lower()
            entries.append(Entry(at, pos, kind, f"{data.owner} token {data.token}"))
    return entries, checks


def _close_durations(entries: list[Entry], now: datetime) -> None:
    """A status lasts until the next status change (or deregistration, or
    now); a lease until its release or expiry."""
    status: Entry | None = None
    leases: dict[str, Entry] = {}
    for entry in entries:
        if entry.kind in ("health", "deregistered", "registered") and status is not None:
            status.seconds = (entry.at - status.at).total_seconds()
            status = None
        if entry.kind == "health":
            status = entry
        token = entry.detail.rsplit(" ", 1)[-1]
        if entry.kind == "lease granted":
            leases[token] = entry
        elif entry.kind in ("lease released", "lease expired") and token in leases:
            granted = leases.pop(token)
            granted.seconds = (entry.at - granted.at).total_seconds()
    if status is not None:
        status.seconds = (now - status.at).total_seconds()
        status.detail += " (still)"


def duration(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
