"""``hublog report``: what a window of a hub's log holds, gathered for the
incident report (rendered by :mod:`.report_html`): metrics per instance,
health transitions, recoveries, leases, status changes, anomalies."""

from __future__ import annotations

from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eventstore import RecordedEvent, streams
from eventstore.events import MetricsSampled
from eventstore.store import EventStore
from projections import (
    Anomaly,
    HubView,
    ReadModels,
    ReadModelStore,
    rebuild,
    standard_projections,
    state_at,
)

from ..memory import MemoryReadModelStore
from .coverage import coverage
from .errors import EmptyRange
from .filters import Window, events_between
from .lines import HubClock
from .svg import Mark

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class InstanceSeries:
    instance_id: str
    response_ms: list[tuple[datetime, float]] = field(default_factory=list)
    error_rate: list[tuple[datetime, float]] = field(default_factory=list)
    cpu: list[tuple[datetime, float]] = field(default_factory=list)
    connections: list[tuple[datetime, float]] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    counters: tuple[int, int] | None = None


@dataclass
class StatusChange:
    at: datetime
    position: int
    instance_id: str
    from_status: str
    to_status: str
    reason: str
    seconds: float | None = None


@dataclass
class ReportData:
    hub_id: str
    url: str
    after: int
    last: int
    before: HubView
    at_end: HubView
    start: datetime = EPOCH
    """First and last event of the window, by :class:`HubClock`."""
    end: datetime = EPOCH
    counts: dict[str, int] = field(default_factory=dict)
    instances: dict[str, InstanceSeries] = field(default_factory=dict)
    changes: list[StatusChange] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)
    since_text: str = ""
    until_text: str = ""
    partial: str | None = None
    """What the log leaves out (:meth:`.coverage.Coverage.line`), if anything."""


async def collect(
    store: EventStore, storage: ReadModelStore | None, hub_id: str, window: Window, url: str
) -> ReportData:
    """Raises: EmptyRange for a window without events."""
    after, last = await window.positions(store, hub_id)
    held = await coverage(store, storage, hub_id)
    after = max(after, held.first - 1)  # the window starts no earlier than the log
    head = await store.head(hub_id)
    last = head if last is None else min(last, head)
    async with aclosing(events_between(store, hub_id, after, last)) as stream:
        events = [e async for e in stream]
    if not events:  # also a window wholly inside a hole that retention left
        raise EmptyRange(f"empty range in hub {hub_id!r}: {window.describe()} holds no events")
    before = await state_at(store, storage, hub_id, position=after)
    at_end = await state_at(store, storage, hub_id, position=last)
    data = ReportData(hub_id, url, after, last, before, at_end, partial=held.line())
    for iid in sorted(set(before.instances) | set(at_end.instances)):
        data.instances[iid] = InstanceSeries(iid)
    clock = HubClock().prime(events)
    lasting: dict[str, StatusChange] = {}
    for event in events:
        at = clock.at(event)
        _take(data, event, at)
        _end_status(lasting, data.changes, event, at)
    for change in lasting.values():
        change.seconds = (data.end - change.at).total_seconds()
    data.since_text, data.until_text = _iso(events[0].recorded_at), _iso(events[-1].recorded_at)
    data.anomalies = await _anomalies(store, storage, hub_id, after, last)
    return data


def _iso(when: datetime | None) -> str:
    return "" if when is None else when.isoformat().replace("+00:00", "Z")


def _take(data: ReportData, event: RecordedEvent, at: datetime) -> None:
    data.counts[event.type] = data.counts.get(event.type, 0) + 1
    if data.start == EPOCH:
        data.start = at
    data.end = max(data.end, at)
    iid = streams.entity_of(event.stream)
    if iid is None or not event.is_readable:
        return  # an unknown or damaged payload is counted, but has no fields to show
    series = data.instances.setdefault(iid, InstanceSeries(iid))
    payload: Any = event.event
    if isinstance(payload, MetricsSampled):
        _sample(series, payload)
    elif event.type == "HealthChanged":
        to = payload.to_status.value
        series.marks.append(Mark(at, f"health-{to}", f"{to} ({payload.reason})"))
        data.changes.append(
            StatusChange(
                at,
                event.position,
                iid,
                payload.from_status.value,
                to,
                payload.reason,
            )
        )
    elif event.type in _MARKS:
        kind, lane, label = _MARKS[event.type]
        series.marks.append(Mark(at, kind, label + _who(payload), lane=lane))


_MARKS = {
    "InstanceRecovered": ("recovered", False, "recovered"),
    "RecoveryFailed": ("recovery-failed", False, "recovery failed"),
    "InstanceRegistered": ("registered", False, "registered"),
    "InstanceDeregistered": ("deregistered", False, "deregistered"),
    "LockGranted": ("lease-granted", True, "lease granted"),
    "LockExpired": ("lease-expired", True, "lease expired"),
    "LockReleased": ("lease-released", True, "lease released"),
}


def _who(payload: Any) -> str:
    owner = getattr(payload, "owner", None)
    return f" to {owner} #{payload.token}" if owner else ""


def _sample(series: InstanceSeries, sample: MetricsSampled) -> None:
    m, at = sample.metrics, sample.sampled_at
    counters = (m.request_count, m.error_count)
    previous, series.counters = series.counters, counters
    rate = 0.0
    if previous is not None and counters[0] > previous[0] and counters[1] >= previous[1]:
        rate = (counters[1] - previous[1]) / (counters[0] - previous[0]) * 100
    series.response_ms.append((at, m.avg_response_time_ms))
    series.error_rate.append((at, rate))
    series.cpu.append((at, m.cpu_percent))
    series.connections.append((at, float(m.active_connections)))


_STATUS_ENDS = frozenset({"HealthChanged", "InstanceRegistered", "InstanceDeregistered"})


def _end_status(
    lasting: dict[str, StatusChange],
    changes: list[StatusChange],
    event: RecordedEvent,
    at: datetime,
) -> None:
    """A status lasts until its instance's next status change, registration
    or deregistration (as the timeline measures it); ``lasting`` holds each
    instance's status that still does."""
    iid = streams.entity_of(event.stream)
    if iid is None or not event.is_readable or event.type not in _STATUS_ENDS:
        return
    ended = lasting.pop(iid, None)
    if ended is not None:
        ended.seconds = (at - ended.at).total_seconds()
    if event.type == "HealthChanged":
        lasting[iid] = changes[-1]  # the one _take has just added


async def _anomalies(
    store: EventStore, storage: ReadModelStore | None, hub_id: str, after: int, last: int
) -> list[Anomaly]:
    """From the stored read models if they reach the window's end, else from
    a fold in memory."""
    found: list[Anomaly] = []
    for projection in standard_projections():
        source = storage
        checkpoint = None if storage is None else await storage.checkpoint(projection.name, hub_id)
        if checkpoint is None or checkpoint.position < last:
            source = MemoryReadModelStore()
            await rebuild(store, source, projection, hub_id, snapshot_every=None)
        assert source is not None
        rows = await ReadModels(source).anomalies(projection, hub_id)
        found += [a for a in rows if after < a.position <= last]
    return sorted(found, key=lambda a: a.position)
