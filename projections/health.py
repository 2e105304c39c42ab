"""The health history: every check and every status transition of every
instance, and the time each spent in each status.

Time is ``recorded_at`` (the backend's clock when the event was appended):
a status interval runs from the event that entered it to the one that left
it; the open interval is ``now - status_since``.  Registration and
deregistration are transitions too (from ``None``, to ``stopped``), so a
timeline read from ``transitions`` is complete.
"""

# msgspec copies empty-collection defaults per instance; ruff cannot see that
# through a ReadModel subclass.
# ruff: noqa: RUF012

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import msgspec
from msgspec.structs import replace

from eventstore import streams
from eventstore.envelope import RecordedEvent
from eventstore.events import HealthChanged, HealthChecked, InstanceDeregistered, InstanceRegistered
from eventstore.values import ResourceStatus

from . import anomalies, keys
from .readmodel import Projection, ReadModel, flag


class HealthHead(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: str
    registered: bool = False
    incarnation: int = 0
    status: ResourceStatus = ResourceStatus.UNKNOWN
    status_since: datetime | None = None
    time_in_status: dict[str, float] = {}
    """Seconds spent in each status (by value), over all incarnations, closed intervals only."""
    checks: int = 0
    failed_checks: int = 0
    transitions: int = 0
    consecutive_failures: int = 0
    last_check_at: datetime | None = None
    last_check_ok: bool | None = None


class CheckRow(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: str
    incarnation: int
    position: int
    checked_at: datetime
    recorded_at: datetime
    ok: bool
    latency_ms: float | None
    error: str | None
    consecutive_failures: int


class TransitionRow(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: str
    incarnation: int
    position: int
    at: datetime
    from_status: ResourceStatus | None
    to_status: ResourceStatus
    reason: str
    consecutive_failures: int
    seconds_in_previous: float
    """How long the instance had been in ``from_status`` (0 for a registration)."""


class HealthHistory(ReadModel, frozen=True, kw_only=True):
    """Keys: ``instances`` by instance id; ``checks`` and ``transitions`` by
    ``<instance id>{<position>``, so one instance's rows are one key range."""

    HEAD = ("instances",)

    instances: dict[str, HealthHead] = {}
    checks: dict[str, CheckRow] = {}
    transitions: dict[str, TransitionRow] = {}


class HealthProjection(Projection[HealthHistory]):
    name: ClassVar[str] = "health"
    state_type = HealthHistory
    categories = frozenset({"instance"})
    event_types = frozenset(
        {"InstanceRegistered", "InstanceDeregistered", "HealthChecked", "HealthChanged"}
    )
    clock_resolution: ClassVar[int | None] = None  # its times are the events' own recorded_at

    def evolve(self, state: HealthHistory, event: RecordedEvent) -> HealthHistory:
        instance_id = streams.entity_of(event.stream) or ""
        head = state.instances.get(instance_id) or HealthHead(instance_id=instance_id)
        e = event.event
        if isinstance(e, InstanceRegistered):
            previous = (
                head.status if head.registered else None
            )  # registered twice: close the old interval
            head = replace(head, registered=True, incarnation=head.incarnation + 1)
            return _transition(
                state, event, head, previous, e.status, "registered", e.health_checks_failed
            )
        if not isinstance(e, HealthChecked | HealthChanged | InstanceDeregistered):
            return state
        if not head.registered:
            return flag(
                state, event, anomalies.UNREGISTERED, f"instance {instance_id!r} is not registered"
            )
        if isinstance(e, HealthChecked):
            return _checked(state, event, e, head)
        if isinstance(e, HealthChanged):
            if e.from_status is not head.status:
                detail = f"from {e.from_status.value} but the instance is {head.status.value}"
                state = flag(state, event, anomalies.FROM_MISMATCH, detail)
            return _transition(
                state, event, head, head.status, e.to_status, e.reason, e.consecutive_failures
            )
        gone = replace(head, registered=False)
        reason = e.reason or "deregistered"
        return _transition(
            state,
            event,
            gone,
            head.status,
            ResourceStatus.STOPPED,
            reason,
            head.consecutive_failures,
            closing=True,
        )


def _checked(
    state: HealthHistory, event: RecordedEvent, e: HealthChecked, head: HealthHead
) -> HealthHistory:
    row = CheckRow(
        instance_id=head.instance_id,
        incarnation=head.incarnation,
        position=event.position,
        checked_at=e.checked_at,
        recorded_at=event.recorded_at,
        ok=e.ok,
        latency_ms=e.latency_ms,
        error=e.error,
        consecutive_failures=e.consecutive_failures,
    )
    head = replace(
        head,
        checks=head.checks + 1,
        failed_checks=head.failed_checks + (not e.ok),
        consecutive_failures=e.consecutive_failures,
        last_check_at=e.checked_at,
        last_check_ok=e.ok,
    )
    return replace(
        state,
        instances={**state.instances, head.instance_id: head},
        checks={**state.checks, keys.join(head.instance_id, keys.seq(event.position)): row},
    )


def _transition(
    state: HealthHistory,
    event: RecordedEvent,
    head: HealthHead,
    from_status: ResourceStatus | None,
    to_status: ResourceStatus,
    reason: str,
    failures: int,
    *,
    closing: bool = False,
) -> HealthHistory:
    """Close the interval in ``from_status`` at this event and open one in
    ``to_status`` (none when ``closing``: a deregistered instance is nowhere)."""
    at = event.recorded_at
    spent = 0.0
    time_in_status = head.time_in_status
    if head.status_since is not None and from_status is not None:
        spent = max(0.0, (at - head.status_since).total_seconds())
        previous = time_in_status.get(from_status.value, 0.0)
        time_in_status = {**time_in_status, from_status.value: previous + spent}
    row = TransitionRow(
        instance_id=head.instance_id,
        incarnation=head.incarnation,
        position=event.position,
        at=at,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        consecutive_failures=failures,
        seconds_in_previous=spent,
    )
    head = replace(
        head,
        status=to_status,
        status_since=None if closing else at,
        time_in_status=time_in_status,
        transitions=head.transitions + 1,
    )
    return replace(
        state,
        instances={**state.instances, head.instance_id: head},
        transitions={
            **state.transitions,
            keys.join(head.instance_id, keys.seq(event.position)): row,
        },
    )
