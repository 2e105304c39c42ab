"""The hub read model's types: one instance, one lease, the summary, the hub
itself, and the state the hub projection folds (``HubState``).

A leaf module: the folds (``instances``, ``locks``, ``projection``) import
it, and it imports none of them, so ``HubState`` is usable at run time
anywhere without an import cycle.
"""

# msgspec copies empty-collection defaults per instance; ruff cannot see that
# through a ReadModel subclass.
# ruff: noqa: RUF012

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from eventstore.values import InstanceConfig, Metrics, ResourceStatus, ResourceType

from ..readmodel import Meta, ReadModel


class InstanceState(msgspec.Struct, frozen=True, kw_only=True):
    """One instance as the log says it is now (also after deregistration:
    ``registered`` is then False, and the row keeps its incarnation count)."""

    id: str
    name: str
    resource_type: ResourceType
    endpoint: str
    status: ResourceStatus
    metadata: dict[str, Any] = {}
    tags: frozenset[str] = frozenset()
    capabilities: frozenset[str] = frozenset()
    metrics: Metrics = Metrics()
    health_checks_failed: int = 0
    last_health_check: datetime | None = None
    created_at: datetime
    updated_at: datetime
    config: InstanceConfig | None = None
    # what the log adds
    registered: bool = True
    incarnation: int = 1
    registered_at: datetime
    deregistered_at: datetime | None = None
    last_check_passed: bool = False
    """The latest check since registration or recovery passed."""
    metrics_sampled_at: datetime | None = None
    recoveries: int = 0
    recovery_failures: int = 0
    version: int = 0
    """The version of the instance's stream this row has folded: a write that
    decides from the row appends expecting it (0: a row stored before rows
    carried it, which a write reads afresh)."""

    @property
    def is_available(self) -> bool:
        """Gleitzeit's ``is_available()``: registered and healthy or degraded."""
        return self.registered and self.status.is_available


class Holder(msgspec.Struct, frozen=True, kw_only=True):
    owner: str
    token: int
    granted_at: datetime
    expires_at: datetime
    ttl_s: float


class LeaseState(msgspec.Struct, frozen=True, kw_only=True):
    """One resource's lease.  ``holders`` may include leases that have
    expired by now but were not yet seen to expire: use :meth:`live`."""

    resource_id: str
    capacity: int = 1
    holders: tuple[Holder, ...] = ()
    last_token: int = 0
    grants: int = 0
    renewals: int = 0
    releases: int = 0
    expiries: int = 0
    changed_at: datetime | None = None
    """``recorded_at`` of the lock's last event."""

    def live(self, at: datetime | None) -> tuple[Holder, ...]:
        """The holders whose lease is unexpired at ``at`` (all of them for None)."""
        if at is None:
            return self.holders
        return tuple(h for h in self.holders if h.expires_at > at)

    def owner(self, at: datetime | None) -> str | None:
        """The live holder with the highest token, or None."""
        live = self.live(at)
        return max(live, key=lambda h: h.token).owner if live else None


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
    queue_depth: int | None = None
    """Requests waiting in the hub's reservation queue; None: not known here.
    The hub projection folds no queue events (the queue read model does), so
    its stored summary leaves these None and ``get_resource_utilization``
    fills them from the queue model.  Defaults keep old summaries readable."""
    oldest_wait_s: float | None = None
    """How long the oldest waiter has waited (by the later of this summary's
    and the queue model's clocks); None: not known here."""


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


class ScalingAdvice(msgspec.Struct, frozen=True, kw_only=True):
    action: Literal["scale_up", "scale_down", "hold"]
    current_instances: int
    suggested_instances: int
    average_load: float
    reason: str
    advised_at: datetime


class HubInfo(msgspec.Struct, frozen=True, kw_only=True):
    """The hub itself, from its ``hub`` stream."""

    running: bool = False
    node_id: str = ""
    resource_type: ResourceType | None = None
    health_check_interval: float = 30.0
    max_health_failures: int = 3
    metrics_interval: float = 30.0
    auto_recovery: bool = True
    settings: dict[str, Any] = {}
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    stop_reason: str = ""
    scaling_advice: ScalingAdvice | None = None


class HubMeta(Meta, frozen=True, kw_only=True):
    hub: HubInfo = HubInfo()


class HubState(ReadModel, frozen=True, kw_only=True):
    """Instances (``instances``), the lock table (``locks``) and, derived from
    them, the summary (stored as table ``summary``, key ``""``)."""

    HEAD = ("instances", "locks")

    meta: HubMeta = HubMeta()
    instances: dict[str, InstanceState] = {}
    locks: dict[str, LeaseState] = {}

    @property
    def summary(self) -> HubSummary:
        return summarize(self)
