"""The invariants of Gleitzeit's hub model, as the anomaly kinds folds record.

An event that breaks one is still folded where its meaning is clear (the
log is what the hub did) and is always recorded: counted in the read model's
``meta.anomaly_counts`` and kept as an ``anomalies`` row.
"""

from __future__ import annotations

from eventstore.values import ResourceStatus

# Instances (invariants 1 and 2)
UNREGISTERED = "event_for_unregistered_instance"
REGISTERED_TWICE = "registered_while_registered"
HEALTHY_WITHOUT_CHECK = "healthy_without_passing_check"
FROM_MISMATCH = "transition_from_mismatch"
BELOW_THRESHOLD = "transition_below_threshold"
FAILURE_COUNT = "failure_count_inconsistent"
# Metrics (invariant 3)
COUNTER_DECREASED = "counter_decreased"
ERRORS_EXCEED_REQUESTS = "errors_exceed_requests"
SAMPLE_TIME_NOT_INCREASING = "sample_time_not_increasing"
ROLLUP_OVERLAPS_OPEN = "rollup_overlaps_open_bucket"
# Leases (invariant 4)
OVER_CAPACITY = "lease_over_capacity"
TOKEN_NOT_INCREASING = "fencing_token_not_increasing"
NOT_HOLDER = "lease_change_by_non_holder"
EXPIRED_EARLY = "lease_expired_before_expiry"

DEGRADED_AT = 2
"""Consecutive failed checks that make an instance degraded (Gleitzeit)."""


def transition_problems(
    *,
    status: ResourceStatus,
    last_check_passed: bool,
    failures: int,
    max_failures: int,
    from_status: ResourceStatus,
    to_status: ResourceStatus,
) -> list[tuple[str, str]]:
    """The anomalies ``(kind, detail)`` of a HealthChanged from ``status``.

    Healthy needs a passing check since (re)registration or recovery;
    degraded needs 2 consecutive failures, unhealthy ``max_failures``.
    """
    problems = []
    if from_status is not status:
        problems.append(
            (FROM_MISMATCH, f"from {from_status.value} but the instance is {status.value}")
        )
    if to_status is ResourceStatus.HEALTHY and not last_check_passed:
        problems.append(
            (
                HEALTHY_WITHOUT_CHECK,
                "healthy without a passing check since registration or recovery",
            )
        )
    elif to_status is ResourceStatus.DEGRADED and failures < DEGRADED_AT:
        problems.append(
            (BELOW_THRESHOLD, f"degraded after {failures} failure(s), needs {DEGRADED_AT}")
        )
    elif to_status is ResourceStatus.UNHEALTHY and failures < max_failures:
        problems.append(
            (BELOW_THRESHOLD, f"unhealthy after {failures} failure(s), needs {max_failures}")
        )
    return problems
