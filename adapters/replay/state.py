"""``hublog state``: a hub as it was at a time or position, from the nearest
snapshot plus the tail of the log (:func:`projections.state_at`)."""

from __future__ import annotations

from typing import Any

from eventstore.store import EventStore
from projections import HubView, ReadModelStore, state_at

from . import table
from .lines import timestamp
from .plain import plain
from .timeparse import Point


async def view_at(
    store: EventStore, storage: ReadModelStore | None, hub_id: str, point: Point
) -> HubView:
    """Raises: InvalidQuery for a position beyond the hub's head."""
    position = await point.position_in(store, hub_id)  # the store's index: no head read
    return await state_at(store, storage, hub_id, position=position)


def as_json(view: HubView) -> dict[str, Any]:
    data: dict[str, Any] = plain(view)
    data["lease_holders"] = {
        resource: [plain(h) for h in lock.live(view.as_of)] for resource, lock in view.locks.items()
    }
    return data


def lines(view: HubView) -> list[str]:
    when = f"{timestamp(view.as_of)} UTC" if view.as_of else "before its first event"
    s = view.summary
    out = [
        (
            f"hub {view.hub_id} at position {view.position} ({when}; "
            f"{view.replayed} events replayed on top of the nearest snapshot)"
        ),
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
    if view.anomaly_counts:
        out += ["", f"anomalies so far: {_by_status(view.anomaly_counts)}"]
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
