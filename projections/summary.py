"""The hub summary: instances by status and utilisation, derived from the
instances and the lock table (so it can never disagree with them)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from .hub import HubState


class HubSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What ``get_resource_utilization`` reports, as of ``position``.

    ``availability`` is available / registered; the load figures are over
    the available instances' last metrics; lease figures count holders
    unexpired at ``as_of`` (the backend's clock as the log knows it).
    """

    position: int
    as_of: datetime | None
    registered: int
    removed: int
    available: int
    by_status: dict[str, int]
    availability: float
    cpu_percent: float
    memory_percent: float
    active_connections: int
    queued_requests: int
    request_count: int
    error_count: int
    error_rate: float
    lease_holders: int
    lease_capacity: int
    lease_utilisation: float


def summarize(state: HubState) -> HubSummary:
    now = state.meta.clock
    registered = [i for i in state.instances.values() if i.registered]
    available = [i for i in registered if i.status.is_available]
    by_status: dict[str, int] = {}
    for instance in registered:
        by_status[instance.status.value] = by_status.get(instance.status.value, 0) + 1
    requests = sum(i.metrics.request_count for i in registered)
    errors = sum(i.metrics.error_count for i in registered)
    holders = sum(len(lock.live(now)) for lock in state.locks.values())
    capacity = sum(lock.capacity for lock in state.locks.values())
    return HubSummary(
        position=state.meta.position,
        as_of=now,
        registered=len(registered),
        removed=len(state.instances) - len(registered),
        available=len(available),
        by_status=dict(sorted(by_status.items())),
        availability=_ratio(len(available), len(registered)),
        cpu_percent=_mean([i.metrics.cpu_percent for i in available]),
        memory_percent=_mean([i.metrics.memory_percent for i in available]),
        active_connections=sum(i.metrics.active_connections for i in available),
        queued_requests=sum(i.metrics.queued_requests for i in available),
        request_count=requests,
        error_count=errors,
        error_rate=_ratio(errors, requests) * 100,
        lease_holders=holders,
        lease_capacity=capacity,
        lease_utilisation=_ratio(holders, capacity),
    )


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
