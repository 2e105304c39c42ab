"""Rollup arithmetic (minute -> hour -> bucket) and the health-transition
rules, as pure functions: exact aggregates, buckets and anomaly details."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from eventstore.events import RollupBucket
from eventstore.values import ResourceStatus
from projections import anomalies, rollup
from projections.rollup import NUMERIC, Aggregate, Minute

S = ResourceStatus
MINUTE = datetime(2026, 11, 1, 12, 34, tzinfo=UTC)
RESPONSE = NUMERIC.index("avg_response_time_ms")


def values(base: float, response_ms: float) -> tuple[float, ...]:
    """A sample's numeric fields: ``base + i`` for field i, but the response time."""
    row = [base + i for i in range(len(NUMERIC))]
    row[RESPONSE] = response_ms
    return tuple(row)


def minute_of(
    *samples: tuple[tuple[float, ...], dict[str, float]], start: datetime = MINUTE
) -> Minute:
    minute = None
    for numbers, custom in samples:
        minute = rollup.add(minute, start, numbers, custom, 3, 1)
    assert minute is not None
    return minute


# p95


def test_the_p95_of_no_values_is_zero() -> None:
    assert rollup.p95(()) == 0.0


def test_the_p95_is_the_nearest_rank() -> None:
    assert rollup.p95((7.0,)) == 7.0
    assert rollup.p95(tuple(float(v) for v in range(20, 0, -1))) == 19.0
    assert rollup.p95(tuple(float(v) for v in range(1, 22))) == 20.0


# add, close, merge, bucket


def test_closing_a_minute_aggregates_its_samples() -> None:
    minute = minute_of((values(1, 30.0), {"gpu": 40.0}), (values(5, 10.0), {}))
    agg = rollup.close(minute)
    assert agg.start == MINUTE
    assert agg.count == 2
    assert agg.mins == tuple(float(v) for v in map(min, values(1, 30.0), values(5, 10.0)))
    assert agg.maxs == tuple(float(v) for v in map(max, values(1, 30.0), values(5, 10.0)))
    assert agg.sums[0] == 6.0 and agg.sums[RESPONSE] == 40.0
    assert agg.custom == {"gpu": (40.0, 40.0, 40.0, 1)}
    assert agg.response_times == (30.0, 10.0)
    assert (agg.request_delta, agg.error_delta) == (6, 2)


def test_a_minute_whose_samples_differ_in_width_is_refused() -> None:
    # one column per field of NUMERIC: a short sample must not shift or drop fields
    minute = minute_of((values(1, 30.0), {}), (values(5, 10.0)[:-1], {}))
    with pytest.raises(ValueError, match="zip"):
        rollup.close(minute)


def test_a_new_hour_starts_at_the_hour_of_its_first_minute() -> None:
    part = rollup.close(minute_of((values(1, 30.0), {})))
    hour = rollup.merge(None, part)
    assert hour.start == datetime(2026, 11, 1, 12, tzinfo=UTC)
    assert (hour.count, hour.sums, hour.response_times) == (1, part.sums, (30.0,))


def test_a_custom_metric_first_seen_in_a_later_minute_joins_the_hour() -> None:
    first = rollup.close(minute_of((values(1, 30.0), {})))
    later = rollup.close(
        minute_of((values(2, 20.0), {"gpu": 41.0}), start=MINUTE.replace(minute=35))
    )
    hour = rollup.merge(rollup.merge(None, first), later)
    assert hour.custom == {"gpu": (41.0, 41.0, 41.0, 1)}
    assert hour.count == 2
    assert hour.start == datetime(2026, 11, 1, 12, tzinfo=UTC)


def test_an_hour_combines_the_custom_metrics_of_its_minutes() -> None:
    first = rollup.close(minute_of((values(1, 30.0), {"gpu": 40.0, "fan": 3.0})))
    later = rollup.close(
        minute_of((values(2, 20.0), {"gpu": 44.0}), start=MINUTE.replace(minute=35))
    )
    hour = rollup.merge(rollup.merge(None, first), later)
    assert hour.custom == {"fan": (3.0, 3.0, 3.0, 1), "gpu": (40.0, 44.0, 84.0, 2)}


def test_a_bucket_has_min_max_and_mean_of_every_field() -> None:
    minute = minute_of((values(1, 30.0), {"gpu": 40.0}), (values(5, 10.0), {"gpu": 50.0}))
    bucket = rollup.bucket(rollup.close(minute))
    low, high = values(1, 30.0), values(5, 10.0)
    expected = {
        name: (float(min(a, b)), float(max(a, b)), (a + b) / 2)
        for name, a, b in zip(NUMERIC, low, high, strict=True)
    }
    assert bucket == RollupBucket(
        start=MINUTE,
        count=2,
        stats={**expected, "custom.gpu": (40.0, 50.0, 45.0)},
        p95_response_time_ms=30.0,
        request_delta=6,
        error_delta=2,
    )


def aggregate(mins: int, maxs: int, sums: int) -> Aggregate:
    """An aggregate whose columns have these lengths (NUMERIC has 12)."""
    return Aggregate(
        start=MINUTE,
        count=1,
        mins=(1.0,) * mins,
        maxs=(2.0,) * maxs,
        sums=(1.5,) * sums,
        custom={},
        response_times=(1.0,),
    )


@pytest.mark.parametrize(
    "lengths",
    [(13, 13, 12), (12, 13, 12), (13, 13, 13), (11, 11, 11)],
    ids=["short-sums", "long-maxs", "all-long", "all-short"],
)
def test_an_aggregate_not_one_column_per_field_makes_no_bucket(
    lengths: tuple[int, int, int],
) -> None:
    # a bucket with stats shifted or cut off would be silently wrong
    with pytest.raises(ValueError, match="zip"):
        rollup.bucket(aggregate(*lengths))


def test_an_aggregate_of_one_column_per_field_makes_a_bucket() -> None:
    bucket = rollup.bucket(aggregate(12, 12, 12))
    assert bucket.stats == dict.fromkeys(NUMERIC, (1.0, 2.0, 1.5))


# numeric_custom


def test_only_finite_numbers_are_custom_metrics() -> None:
    custom = {"a": 1, "b": 2.5, "c": True, "d": "3", "e": math.inf, "f": math.nan, "g": None}
    assert rollup.numeric_custom(custom) == {"a": 1.0, "b": 2.5}
    assert rollup.numeric_custom({}) == {}


# anomalies.transition_problems


def problems(frm: S, to: S, *, status: S | None = None, passed=False, failures=0) -> list:
    return anomalies.transition_problems(
        status=status or frm,
        last_check_passed=passed,
        failures=failures,
        max_failures=3,
        from_status=frm,
        to_status=to,
    )


def test_healthy_needs_a_passing_check() -> None:
    assert problems(S.UNKNOWN, S.HEALTHY) == [
        (
            "healthy_without_passing_check",
            "healthy without a passing check since registration or recovery",
        )
    ]
    assert problems(S.UNKNOWN, S.HEALTHY, passed=True) == []


def test_degraded_needs_two_failures() -> None:
    assert problems(S.HEALTHY, S.DEGRADED, failures=1) == [
        ("transition_below_threshold", "degraded after 1 failure(s), needs 2")
    ]
    assert problems(S.HEALTHY, S.DEGRADED, failures=2) == []


def test_unhealthy_needs_max_failures() -> None:
    assert problems(S.DEGRADED, S.UNHEALTHY, failures=2) == [
        ("transition_below_threshold", "unhealthy after 2 failure(s), needs 3")
    ]
    assert problems(S.DEGRADED, S.UNHEALTHY, failures=3) == []


def test_a_transition_from_another_status_is_a_mismatch_too() -> None:
    assert problems(S.HEALTHY, S.DEGRADED, status=S.UNKNOWN, failures=1) == [
        ("transition_from_mismatch", "from healthy but the instance is unknown"),
        ("transition_below_threshold", "degraded after 1 failure(s), needs 2"),
    ]
