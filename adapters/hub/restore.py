"""``restore(hub, persistence)``: the seed's ``_load_persisted_state``, done right.

The hub's instances are rebuilt from the log (its read model: snapshot plus
tail) as Gleitzeit objects, config included, and each is verified with a
health check before it is trusted.  Per status (``docs/hub.md``):

* deregistered — never comes back (it is not in ``list_instances``);
* stopped / stopping — not resurrected; left as the log has it;
* anything else — recorded as ``unknown`` ("restored, awaiting a check"),
  then checked: a pass records a passing check and ``healthy``; a failure
  records a failed check and ``unhealthy`` (``on_failure="unhealthy"``, the
  instance is kept) or ``InstanceDeregistered`` (``on_failure="deregister"``,
  it is dropped).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

from eventstore.values import ResourceStatus
from projections import InstanceState, InvalidQuery

from . import objects
from .adapter import HubPersistenceAdapter

log = logging.getLogger(__name__)

NOT_RESURRECTED = frozenset({ResourceStatus.STOPPED, ResourceStatus.STOPPING})
HealthCheck = Callable[[Any], Awaitable[bool]]


class RestoreReport(msgspec.Struct, kw_only=True):
    """Ids by outcome."""

    healthy: list[str] = []
    unhealthy: list[str] = []
    deregistered: list[str] = []
    skipped: list[str] = []
    """Stopped instances, and ids the hub already holds."""


async def restore(
    hub: Any,
    persistence: HubPersistenceAdapter,
    *,
    health_check: HealthCheck | None = None,
    on_failure: Literal["unhealthy", "deregister"] = "unhealthy",
) -> RestoreReport:
    """Put the log's live instances of ``hub.hub_id`` back into
    ``hub.instances``, each verified by ``health_check`` (default: the hub's
    own ``check_health``; an exception counts as a failed check).

    Raises: InvalidQuery (a ValueError) for another ``on_failure``; what the adapter raises
    (BackendUnavailable, …) — restore stops there, what it recorded stays.
    """
    if on_failure not in ("unhealthy", "deregister"):
        raise InvalidQuery(f"on_failure must be 'unhealthy' or 'deregister', not {on_failure!r}")
    check = health_check or hub.check_health
    report = RestoreReport()
    for state in await persistence.live_instances(hub.hub_id):
        if state.status in NOT_RESURRECTED or state.id in hub.instances:
            report.skipped.append(state.id)
            continue
        await _restore_one(hub, persistence, state, check, on_failure, report)
    return report


async def _restore_one(
    hub: Any,
    persistence: HubPersistenceAdapter,
    state: InstanceState,
    check: HealthCheck,
    on_failure: str,
    report: RestoreReport,
) -> None:
    hub_id = hub.hub_id
    await persistence.record_status(
        hub_id, state.id, ResourceStatus.UNKNOWN, reason="restored, awaiting a health check"
    )
    instance = objects.instance_object(state)
    instance.status = objects.status_object("unknown")  # not healthy until a check passes
    passed = await _passes(check, instance)
    now = datetime.now(UTC)
    if passed:
        await persistence.record_status(
            hub_id,
            state.id,
            ResourceStatus.HEALTHY,
            reason="restored: check passed",
            checked_at=now,
        )
        _set_health(instance, "healthy", 0, now)
        hub.instances[state.id] = instance
        report.healthy.append(state.id)
    elif on_failure == "deregister":
        await persistence.record_deregistered(state.id, reason="restored: health check failed")
        report.deregistered.append(state.id)
    else:
        failures = state.health_checks_failed + 1
        await persistence.record_status(
            hub_id,
            state.id,
            ResourceStatus.UNHEALTHY,
            reason="restored: health check failed",
            failures=failures,
            checked_at=now,
        )
        _set_health(instance, "unhealthy", failures, now)
        hub.instances[state.id] = instance
        report.unhealthy.append(state.id)


async def _passes(check: HealthCheck, instance: Any) -> bool:
    try:
        return bool(await check(instance))
    except Exception:  # a check that cannot even run has failed
        log.warning("hublog: health check of restored %s raised", instance.id, exc_info=True)
        return False


def _set_health(instance: Any, status: str, failures: int, at: datetime) -> None:
    instance.status = objects.status_object(status)
    instance.health_checks_failed = failures
    instance.last_health_check = at.replace(tzinfo=None)
