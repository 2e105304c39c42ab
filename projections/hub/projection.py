"""The hub projection: instances, lock table and hub summary of one hub.

These three are what ``state_at`` returns, so they are one fold with one
checkpoint, and its (trimmed) state is what a snapshot holds.
"""

# msgspec copies empty-collection defaults per instance; ruff cannot see that
# through a ReadModel subclass.

from __future__ import annotations

from typing import Any, ClassVar

from msgspec.structs import replace

from eventstore import streams
from eventstore.envelope import RecordedEvent
from eventstore.events import HubStarted, HubStopped, MetricsSampled, ScalingAdvised

from ..readmodel import Projection
from .instances import fold_instance_event, fold_sample
from .leases import fold_lock_event
from .state import HubInfo, HubState, HubSummary, ScalingAdvice, summarize


class HubProjection(Projection[HubState]):
    name: ClassVar[str] = "hub"
    version: ClassVar[int] = 2  # 2: instance rows carry their stream's version
    state_type = HubState
    categories = frozenset({"hub", "instance", "metrics", "lock"})
    derived_types: ClassVar[dict[str, type]] = {"summary": HubSummary}
    snapshot_every: ClassVar[int | None] = 1000  # what state_at replays at most, past a snapshot
    clock_resolution: ClassVar[int | None] = None  # only the summary reads them, after the fold

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
