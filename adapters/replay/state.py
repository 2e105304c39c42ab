"""``hublog state``: a hub as it was at a time or position, from the nearest
snapshot plus the tail of the log (:func:`projections.state_at`).

On a log that holds only part of the hub's history (:mod:`.coverage`) the
fold knows nothing of instances registered before the log starts; their
statuses since are read from the log and shown apart, never as removals.
"""

from __future__ import annotations

from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any

from eventstore import RecordedEvent, streams
from eventstore.store import EventStore
from projections import HubView, ReadModelStore, state_at

from . import table
from .coverage import Coverage, coverage
from .filters import events_between
from .lines import timestamp
from .plain import plain
from .timeparse import Point


@dataclass(frozen=True)
class Earlier:
    """An instance registered before the log starts, as the log shows it since."""

    instance_id: str
    status: str = "unknown"
    """Its last status change's ``to_status`` (``unknown`` without one)."""
    status_at: int | None = None
    last_check: str = "none"
    """``ok`` or ``failed``: its last health check's outcome."""
    checked_at: int | None = None
    deregistered: bool = False

    def row(self) -> list[str]:
        def at(position: int | None) -> str:
            return "" if position is None else f" @{position}"

        return [
            self.instance_id,
            self.status + at(self.status_at),
            self.last_check + at(self.checked_at),
            "yes" if self.deregistered else "no",
        ]


@dataclass(frozen=True)
class State:
    """What ``hublog state`` shows: the fold, what the log holds, and the
    instances the fold cannot know because they came before it."""

    view: HubView
    held: Coverage
    earlier: list[Earlier] = field(default_factory=list)


async def view_at(
    store: EventStore, storage: ReadModelStore | None, hub_id: str, point: Point
) -> HubView:
    """Raises: InvalidQuery for a position beyond the hub's head."""
    position = await point.position_in(store, hub_id)  # the store's index: no head read
    return await state_at(store, storage, hub_id, position=position)


async def state(
    store: EventStore, storage: ReadModelStore | None, hub_id: str, point: Point
) -> State:
    """Raises: OutsideLog for a point the log does not cover (see :mod:`.timeparse`)."""
    view = await view_in_log(store, storage, hub_id, point)
    held = await coverage(store, storage, hub_id)
    earlier = await registered_earlier(store, view) if held.partial else []
    return State(view, held, earlier)


async def registered_earlier(store: EventStore, view: HubView) -> list[Earlier]:
    """Instances whose ``instance/`` stream the log holds from a version
    above 1 (registered before it starts) and that the fold did not
    register, each with its last status up to ``view.position``."""
    first: dict[str, int] = {}
    found: dict[str, Earlier] = {}
    async with aclosing(events_between(store, view.hub_id, 0, view.position)) as events:
        async for event in events:
            iid = streams.entity_of(event.stream)
            if iid is None or streams.category_of(event.stream) != "instance":
                continue
            if first.setdefault(iid, event.version) == 1 or iid in view.instances:
                continue
            found[iid] = _seen(found.get(iid, Earlier(iid)), event)
    return sorted(found.values(), key=lambda e: e.instance_id)


def _state(shown: State | HubView) -> State:
    """A bare view is taken for one of a whole log."""
    return shown if isinstance(shown, State) else State(shown, Coverage(shown.hub_id, 1))


def _seen(seen: Earlier, event: RecordedEvent) -> Earlier:
    payload: Any = event.event
    if event.type == "HealthChanged" and event.is_readable:
        return replace(seen, status=payload.to_status.value, status_at=event.position)
    if event.type == "HealthChecked" and event.is_readable:
        return replace(seen, last_check="ok" if payload.ok else "failed", checked_at=event.position)
    if event.type == "InstanceDeregistered":
        return replace(seen, deregistered=True)
    return seen


async def view_in_log(
    store: EventStore, storage: ReadModelStore | None, hub_id: str, point: Point
) -> HubView:
    """The hub at ``point``.  Raises: OutsideLog for a point the log does not cover."""
    position = await point.position_in_log(store, hub_id)
    return await state_at(store, storage, hub_id, position=position)


def as_json(shown: State | HubView) -> dict[str, Any]:
    shown = _state(shown)
    view = shown.view
    data: dict[str, Any] = plain(view)
    data["lease_holders"] = {
        resource: [plain(h) for h in lock.live(view.as_of)] for resource, lock in view.locks.items()
    }
    # one unit for every rate: a fraction, as availability and lease_utilisation
    # are (the summary's error_rate is a percent, for Gleitzeit's callers)
    data["summary"]["error_rate"] = view.summary.error_rate / 100
    data.update(shown.held.as_json())
    data["registered_before_the_log"] = [plain(e) for e in shown.earlier]
    return data


def lines(shown: State | HubView) -> list[str]:
    shown = _state(shown)
    view = shown.view
    when = f"{timestamp(view.as_of)} UTC" if view.as_of else "before its first event"
    s = view.summary
    partial = shown.held.line()
    out = [
        (
            f"hub {view.hub_id} at position {view.position} ({when}; "
            f"{view.replayed} events replayed on top of the nearest snapshot)"
        ),
        *([f"  {partial}"] if partial else []),
        (
            f"  {s.registered} registered, {s.available} available "
            f"({s.availability:.0%}), {s.removed} removed; by status: {_by_status(s.by_status)}"
        ),
        (
            f"  load: cpu {s.cpu_percent:.1f}%, memory {s.memory_percent:.1f}%, "
            f"{s.active_connections} connections; errors {s.error_count}/{s.request_count} "
            f"({s.error_rate:.2f}%); leases {s.lease_holders}/{s.lease_capacity}"
        ),
        "",
    ]
    out += table.render(
        ("instance", "status", "failures", "cpu %", "resp ms", "conns", "registered", "config"),
        [_instance_row(i) for i in view.instances.values()],
    )
    holders = [
        (resource, h.owner, h.token, timestamp(h.expires_at))
        for resource, lock in view.locks.items()
        for h in lock.live(view.as_of)
    ]
    out += ["", *table.render(("lease", "holder", "token", "expires (UTC)"), holders)]
    if shown.earlier:
        out += [
            "",
            "registered before the log starts (config unknown), as the log shows them since:",
        ]
        out += table.render(
            ("instance", "last status change", "last health check", "deregistered"),
            [e.row() for e in shown.earlier],
        )
    if view.anomaly_counts:
        why = " (a partial log: mostly events of what came before it)" if partial else ""
        out += ["", f"anomalies so far{why}: {_by_status(view.anomaly_counts)}"]
    return out


def _instance_row(instance: Any) -> list[object]:
    config = instance.config
    described = "-" if config is None else f"{type(config).__name__}"
    if config is not None and hasattr(config, "port"):
        described += f" port={config.port}"
    return [
        instance.id,
        instance.status.value,
        instance.health_checks_failed,
        instance.metrics.cpu_percent,
        instance.metrics.avg_response_time_ms,
        instance.metrics.active_connections,
        "yes" if instance.registered else "no",
        described,
    ]


def _by_status(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"
