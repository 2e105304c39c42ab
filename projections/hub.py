"""The hub projection: instances, lock table and hub summary of one hub.

These three are what ``state_at`` returns, so they are one fold with one
checkpoint, and its (trimmed) state is what a snapshot holds.
"""

# msgspec copies empty-collection defaults per instance; ruff cannot see that
# through a ReadModel subclass.
# ruff: noqa: RUF012

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

import msgspec
from msgspec.structs import replace

from eventstore import streams
from eventstore.envelope import RecordedEvent
from eventstore.events import HubStarted, HubStopped, MetricsSampled, ScalingAdvised
from eventstore.values import ResourceType

from .instances import InstanceState, fold_instance_event, fold_sample
from .locks import LockState, fold_lock_event
from .readmodel import Meta, Projection, ReadModel
from .summary import HubSummary, summarize


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
    locks: dict[str, LockState] = {}

    @property
    def summary(self) -> HubSummary:
        return summarize(self)


class HubProjection(Projection[HubState]):
    name: ClassVar[str] = "hub"
    state_type = HubState
    categories = frozenset({"hub", "instance", "metrics", "lock"})
    derived_types: ClassVar[dict[str, type]] = {"summary": HubSummary}
    snapshot_every: ClassVar[int | None] = 1000  # what state_at replays at most, past a snapshot

    def evolve(self, state: HubState, event: RecordedEvent) -> HubState:
        category = streams.category_of(event.stream)
        if category == "instance":
            return fold_instance_event(state, event)
        if category == "lock":
            return fold_lock_event(state, event)
        if category == "metrics":
            e = event.event
            return fold_sample(state, event, e) if isinstance(e, MetricsSampled) else state
        return _fold_hub_event(state, event)

    def derived(self, state: HubState) -> dict[str, dict[str, Any]]:
        return {"summary": {"": summarize(state)}}


def _fold_hub_event(state: HubState, event: RecordedEvent) -> HubState:
    e, info, at = event.event, state.meta.hub, event.recorded_at
    if isinstance(e, HubStarted):
        info = HubInfo(
            running=True,
            node_id=e.node_id,
            resource_type=e.resource_type,
            health_check_interval=e.health_check_interval,
            max_health_failures=e.max_health_failures,
            metrics_interval=e.metrics_interval,
            auto_recovery=e.auto_recovery,
            settings=e.settings,
            started_at=at,
            scaling_advice=info.scaling_advice,
        )
    elif isinstance(e, HubStopped):
        info = replace(info, running=False, stopped_at=at, stop_reason=e.reason)
    elif isinstance(e, ScalingAdvised):
        advice = ScalingAdvice(
            action=e.action,
            current_instances=e.current_instances,
            suggested_instances=e.suggested_instances,
            average_load=e.average_load,
            reason=e.reason,
            advised_at=at,
        )
        info = replace(info, scaling_advice=advice)
    else:
        return state
    return replace(state, meta=replace(state.meta, hub=info))
