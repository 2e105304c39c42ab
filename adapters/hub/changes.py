"""What ``save_instance`` appends: the difference between what a hub says
about an instance and what the log says, as events.

Status moves only by health events (the projection checks them against
Gleitzeit's thresholds), descriptive fields only by ``InstanceUpdated``, and
nothing is appended when nothing changed.  See ``docs/hub.md``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from eventstore.events import (
    Event,
    HealthChanged,
    HealthChecked,
    InstanceRegistered,
    InstanceUpdated,
)
from eventstore.values import ResourceStatus
from projections.hub import InstanceState

from .convert import Observed

DESCRIPTIVE = ("name", "endpoint", "metadata", "tags", "capabilities", "config")
MAX_REPLAYED_FAILURES = 10
"""A failure count that jumped further than this is recorded as one check
carrying the new count (the projection flags the jump) rather than as many."""


class Health(NamedTuple):
    """The health fields a decision needs, as the log has them."""

    status: ResourceStatus
    failures: int
    passed: bool
    last_check: datetime | None


UNCHECKED = Health(ResourceStatus.UNKNOWN, 0, False, None)


def health_of(state: InstanceState) -> Health:
    return Health(
        state.status, state.health_checks_failed, state.last_check_passed, state.last_health_check
    )


def changes(current: InstanceState | None, observed: Observed, now: datetime) -> list[Event]:
    """The events that take the log from ``current`` (None or deregistered:
    no live incarnation) to ``observed``; empty when nothing changed."""
    if current is None or not current.registered:
        events: list[Event] = [registration(observed)]
        health = UNCHECKED
    else:
        update = descriptive_update(current, observed)
        events = [update] if update is not None else []
        health = health_of(current)
    target = Health(
        observed.status, observed.health_checks_failed, False, observed.last_health_check
    )
    events.extend(health_events(health, target, now, reason="saved by the hub"))
    return events


def registration(observed: Observed) -> InstanceRegistered:
    """A new incarnation, not yet checked: its status follows by health events."""
    return InstanceRegistered(
        name=observed.name,
        resource_type=observed.resource_type,
        endpoint=observed.endpoint,
        status=ResourceStatus.UNKNOWN,
        metadata=observed.metadata,
        tags=observed.tags,
        capabilities=observed.capabilities,
        metrics=observed.metrics,
        created_at=observed.created_at,
        updated_at=observed.updated_at,
        config=observed.config,
    )


def descriptive_update(current: InstanceState, observed: Observed) -> InstanceUpdated | None:
    changed: dict[str, Any] = {
        name: getattr(observed, name)
        for name in DESCRIPTIVE
        if getattr(observed, name) != getattr(current, name)
    }
    return InstanceUpdated(**changed) if changed else None


def health_events(
    current: Health, target: Health, now: datetime, *, reason: str
) -> list[HealthChecked | HealthChanged]:
    """Checks that bring the failure count to the target's, then the status change.

    A hub that calls an instance healthy has seen a check pass (Gleitzeit
    sets healthy only after one; ``OllamaHub`` registers an instance only
    after ``GET /api/tags`` answered), so that check is recorded first.
    """
    failures = 0 if target.status is ResourceStatus.HEALTHY else target.failures
    checks = _checks(current, failures, target.last_check, now)
    passed = checks[-1].ok if checks else current.passed
    becomes_healthy = (
        target.status is ResourceStatus.HEALTHY and current.status is not target.status
    )
    if becomes_healthy and not passed:
        checks.append(HealthChecked(ok=True, checked_at=target.last_check or now))
    events: list[HealthChecked | HealthChanged] = list(checks)
    if target.status is not current.status:
        events.append(
            HealthChanged(
                from_status=current.status,
                to_status=target.status,
                reason=reason,
                consecutive_failures=failures,
            )
        )
    return events


def _checks(
    current: Health, failures: int, checked_at: datetime | None, now: datetime
) -> list[HealthChecked]:
    newer = checked_at is not None and (
        current.last_check is None or checked_at > current.last_check
    )
    if failures == current.failures and not newer:
        return []
    at = checked_at or now
    if failures == 0:
        return [HealthChecked(ok=True, checked_at=at)]
    checks = []
    start = current.failures
    if failures <= current.failures:  # a check passed in between, then these failed
        checks.append(HealthChecked(ok=True, checked_at=at))
        start = 0
    counts = range(start + 1, failures + 1)
    if len(counts) > MAX_REPLAYED_FAILURES:
        counts = range(failures, failures + 1)
    checks.extend(HealthChecked(ok=False, checked_at=at, consecutive_failures=n) for n in counts)
    return checks
