"""The instances read model: every field of Gleitzeit's ``ResourceInstance``,
plus what the log adds (incarnation, registration times, recovery counts).

The fold functions here take and return the hub state (:mod:`.state`), whose
``instances`` table they change.
"""

from __future__ import annotations

import msgspec
from msgspec.structs import replace

from eventstore import streams
from eventstore.envelope import RecordedEvent
from eventstore.events import (
    HealthChanged,
    HealthChecked,
    InstanceDeregistered,
    InstanceRecovered,
    InstanceRegistered,
    InstanceUpdated,
    MetricsSampled,
    RecoveryFailed,
)
from eventstore.values import ResourceStatus

from .. import anomalies
from ..readmodel import flag
from .state import HubState, InstanceState

_DESCRIPTIVE = ("name", "endpoint", "metadata", "tags", "capabilities", "config")


def fold_instance_event(state: HubState, event: RecordedEvent) -> HubState:
    """Fold an ``instance/<id>`` event into ``state.instances``; the
    instance's row then carries its stream's version (``version``), which is
    what a write that decides from this row expects."""
    instance_id = streams.entity_of(event.stream) or ""
    folded = _fold_instance_event(state, event, instance_id)
    current = folded.instances.get(instance_id)
    if current is None or current.version == event.version:
        return folded
    versioned = replace(current, version=event.version)
    if folded.instances is state.instances:  # only flagged: the dict is still shared
        return _put(folded, versioned)
    folded.instances[instance_id] = versioned  # the fold's own new dict: no second copy
    return folded


def _fold_instance_event(state: HubState, event: RecordedEvent, instance_id: str) -> HubState:
    e = event.event
    current = state.instances.get(instance_id)
    if isinstance(e, InstanceRegistered):
        return _registered(state, event, e, instance_id, current)
    if current is None or not current.registered:
        return flag(
            state, event, anomalies.UNREGISTERED, f"instance {instance_id!r} is not registered"
        )
    at = event.recorded_at
    if isinstance(e, HealthChecked):
        return _checked(state, event, e, current)
    if isinstance(e, HealthChanged):
        return _changed(state, event, e, current)
    if isinstance(e, InstanceUpdated):
        changes = {f: getattr(e, f) for f in _DESCRIPTIVE if getattr(e, f) is not msgspec.UNSET}
        return _put(state, replace(current, updated_at=at, **changes))
    if isinstance(e, InstanceRecovered):
        config = current.config if e.config is msgspec.UNSET else e.config
        recovered = replace(
            current,
            config=config,
            last_check_passed=False,
            recoveries=current.recoveries + 1,
            updated_at=at,
        )
        return _put(state, recovered)
    if isinstance(e, RecoveryFailed):
        return _put(
            state, replace(current, recovery_failures=current.recovery_failures + 1, updated_at=at)
        )
    if isinstance(e, InstanceDeregistered):
        gone = replace(
            current,
            registered=False,
            status=ResourceStatus.STOPPED,
            deregistered_at=at,
            updated_at=at,
        )
        return _put(state, gone)
    return state


def fold_sample(state: HubState, event: RecordedEvent, sample: MetricsSampled) -> HubState:
    """A metrics sample replaces the instance's metrics whole, as in Gleitzeit."""
    instance_id = streams.entity_of(event.stream) or ""
    current = state.instances.get(instance_id)
    if current is None or not current.registered:
        return flag(
            state,
            event,
            anomalies.UNREGISTERED,
            f"metrics for unregistered instance {instance_id!r}",
        )
    return _put(
        state, replace(current, metrics=sample.metrics, metrics_sampled_at=sample.sampled_at)
    )


def _put(state: HubState, instance: InstanceState) -> HubState:
    return replace(state, instances={**state.instances, instance.id: instance})


def _registered(
    state: HubState,
    event: RecordedEvent,
    e: InstanceRegistered,
    instance_id: str,
    current: InstanceState | None,
) -> HubState:
    if current is not None and current.registered:
        state = flag(
            state,
            event,
            anomalies.REGISTERED_TWICE,
            f"incarnation {current.incarnation} never ended",
        )
    if e.status is ResourceStatus.HEALTHY:
        state = flag(
            state, event, anomalies.HEALTHY_WITHOUT_CHECK, "registered as healthy before any check"
        )
    at = event.recorded_at
    instance = InstanceState(
        id=instance_id,
        name=e.name,
        resource_type=e.resource_type,
        endpoint=e.endpoint,
        status=e.status,
        metadata=e.metadata,
        tags=e.tags,
        capabilities=e.capabilities,
        metrics=e.metrics,
        health_checks_failed=e.health_checks_failed,
        last_health_check=e.last_health_check,
        created_at=e.created_at or at,
        updated_at=e.updated_at or at,
        config=e.config,
        incarnation=current.incarnation + 1 if current is not None else 1,
        registered_at=at,
    )
    return _put(state, instance)


def _checked(
    state: HubState, event: RecordedEvent, e: HealthChecked, current: InstanceState
) -> HubState:
    expected = 0 if e.ok else current.health_checks_failed + 1
    if e.consecutive_failures != expected:
        state = flag(
            state,
            event,
            anomalies.FAILURE_COUNT,
            f"consecutive_failures {e.consecutive_failures} after {current.health_checks_failed}, "
            f"expected {expected}",
        )
    checked = replace(
        current,
        health_checks_failed=e.consecutive_failures,
        last_health_check=e.checked_at,
        last_check_passed=e.ok,
        updated_at=event.recorded_at,
    )
    return _put(state, checked)


def _changed(
    state: HubState, event: RecordedEvent, e: HealthChanged, current: InstanceState
) -> HubState:
    problems = anomalies.transition_problems(
        status=current.status,
        last_check_passed=current.last_check_passed,
        failures=current.health_checks_failed,
        max_failures=state.meta.hub.max_health_failures,
        from_status=e.from_status,
        to_status=e.to_status,
    )
    for kind, detail in problems:
        state = flag(state, event, kind, detail)
    return _put(state, replace(current, status=e.to_status, updated_at=event.recorded_at))
