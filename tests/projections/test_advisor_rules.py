"""The scaling advisor exactly: each figure ``measure`` computes, each rule
of the table at its boundary (``>=`` against ``>``, the target counts, the
reason word for word), and the cooldown at its edge.

The rules are tested on figures set directly (``_Figures`` into
``_decide``): through ``advise`` every boundary would need a history crafted
to land on it, and the float arithmetic between would blur the edge.  The
figures themselves are tested through ``measure`` on histories whose answer
is worked out by hand (or by ``statistics.linear_regression`` for the trend).
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import pytest

from eventstore import Metrics, MetricsSampled
from projections.advisor import (
    Advice,
    ScalingPolicy,
    _cool_down,
    _decide,
    _Figures,
    advise,
    measure,
)

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
POLICY = ScalingPolicy()  # max_concurrent 4, window 600 s, thresholds 0.3 / 0.6 / 0.8


def sample(minute: float, active: int, requests: int = 0, errors: int = 0) -> MetricsSampled:
    return MetricsSampled(
        metrics=Metrics(active_connections=active, request_count=requests, error_count=errors),
        sampled_at=T0 + timedelta(minutes=minute),
    )


def figures(**changes: object) -> _Figures:
    base: dict[str, object] = {
        "current": 4,
        "samples": 10,
        "average": 0.5,
        "recent": 0.5,
        "p95": 0.5,
        "error_rate": 0.0,
        "trend": 0.0,
        "end": T0,
    }
    return _Figures(**{**base, **changes})  # type: ignore[arg-type]


# -- measure ---------------------------------------------------------------


def test_measure_computes_every_figure_over_the_window() -> None:
    history = {
        # given newest first: measure sorts, or the counters' growth reads negative
        "a": [sample(10, 4, 300, 5), sample(5, 2, 100, 5), sample(0, 0, 0, 0)],
        # the request counter went down (a restart): that pair is skipped
        "b": [sample(2, 1, 50, 0), sample(9, 3, 40, 1)],
        # only a sample older than the window: not counted as an instance
        "old": [sample(-1, 4, 0, 0)],
    }
    got = measure(history, POLICY)
    assert (got.current, got.samples, got.end) == (2, 5, T0 + timedelta(minutes=10))
    # loads 0, .25, .5, .75, 1.0 (active / 4); the window starts at minute 0 inclusive
    assert got.average == pytest.approx(0.5)
    # the latest third of 10 minutes starts at minute 6.67: loads 1.0 and 0.75
    assert got.recent == pytest.approx(0.875)
    assert got.p95 == 1.0  # nearest rank: ceil(0.95 * 5) = 5th of 5
    assert got.error_rate == pytest.approx(5 / 300 * 100)
    expected = statistics.linear_regression([0, 5, 10, 2, 9], [0, 0.5, 1.0, 0.25, 0.75])
    assert got.trend == pytest.approx(expected.slope)


def test_measure_of_one_sample_has_it_as_every_figure() -> None:
    got = measure({"a": [sample(3, 2)]}, POLICY)
    assert (got.current, got.samples, got.average, got.recent, got.p95) == (1, 1, 0.5, 0.5, 0.5)
    assert (got.trend, got.error_rate, got.end) == (0.0, 0.0, T0 + timedelta(minutes=3))


def test_measure_of_nothing_is_all_zero() -> None:
    zero = _Figures(
        current=0, samples=0, average=0, recent=0, p95=0, error_rate=0, trend=0, end=None
    )
    assert measure({}, POLICY) == zero
    assert measure({"a": [], "b": []}, POLICY) == zero


def test_measure_counts_a_sample_exactly_window_s_old_and_not_one_older() -> None:
    policy = ScalingPolicy(window_s=60)
    got = measure({"a": [sample(0, 4), sample(1, 0)], "b": [sample(-0.01, 4)]}, policy)
    assert (got.current, got.samples, got.average) == (1, 2, 0.5)


def test_samples_at_one_time_have_no_trend() -> None:
    got = measure({"a": [sample(1, 0)], "b": [sample(1, 4)]}, POLICY)
    assert (got.trend, got.average) == (0.0, 0.5)


def test_load_with_max_concurrent_zero_is_the_connection_count() -> None:
    got = measure({"a": [sample(0, 2)]}, ScalingPolicy(max_concurrent=0))
    assert got.average == 2.0


def test_error_rate_counts_errors_of_a_pair_without_requests() -> None:
    # pair 1: 100 requests, no error; pair 2: no request, 2 errors -> 2 %
    got = measure({"a": [sample(0, 0, 0, 0), sample(1, 0, 100, 0), sample(2, 0, 100, 2)]}, POLICY)
    assert got.error_rate == pytest.approx(2.0)


def test_error_rate_skips_a_pair_whose_error_counter_went_down() -> None:
    got = measure({"a": [sample(0, 0, 0, 5), sample(1, 0, 100, 0), sample(2, 0, 200, 1)]}, POLICY)
    assert got.error_rate == pytest.approx(1.0)  # 1 error in the second pair's 100


# -- the rules -------------------------------------------------------------


def test_rule_1_holds_below_min_samples_and_not_at_it() -> None:
    assert _decide(figures(samples=2, average=2.0), POLICY, None) == (
        "hold",
        4,
        "only 2 samples in the window (need 3)",
    )
    assert _decide(figures(samples=3, average=2.0, recent=2.0), POLICY, None)[0] == "scale_up"


def test_rule_2_a_queue_of_one_per_instance_scales_up() -> None:
    assert _decide(figures(current=2), POLICY, 2) == (
        "scale_up",
        3,
        "2 requests queued for 2 instances",
    )
    assert _decide(figures(current=2), POLICY, 1)[0] == "hold"
    assert _decide(figures(current=2), POLICY, None)[0] == "hold"
    # an empty pool counts as one instance: a single waiting request scales it up
    assert _decide(figures(current=0), POLICY, 1) == (
        "scale_up",
        1,
        "1 requests queued for 0 instances",
    )
    assert _decide(figures(current=0), POLICY, 0)[0] == "hold"
    per_two = ScalingPolicy(queue_per_instance=2.0)
    assert _decide(figures(current=2), per_two, 3)[0] == "hold"
    assert _decide(figures(current=2), per_two, 4)[0] == "scale_up"


def test_rule_3_sustained_load_at_the_threshold_scales_up_to_the_load() -> None:
    assert _decide(figures(average=0.8, recent=0.8), POLICY, None) == (
        "scale_up",
        5,
        "average load 80% of max_concurrent, sustained",
    )
    # 4 instances at 110 %: 4 * 1.1 / 0.8 = 5.5 -> 6 instances, not just one more
    assert _decide(figures(average=1.1, recent=1.1), POLICY, None)[1] == 6
    assert _decide(figures(average=1.1, recent=1.1), ScalingPolicy(max_instances=5), None)[1] == 5


def test_rule_4_rising_load_at_the_thresholds_scales_up_by_one() -> None:
    assert _decide(figures(average=0.6, trend=0.03), POLICY, None) == (
        "scale_up",
        5,
        "average load 60% and rising 3% per minute",
    )
    assert _decide(figures(average=0.59, trend=0.03), POLICY, None)[0] == "hold"
    assert _decide(figures(average=0.6, trend=0.029), POLICY, None)[0] == "hold"
    # high but falling lately, yet rising over the window: one more, not the load's count
    rising = figures(current=2, average=1.5, recent=0.5, trend=0.1)
    assert _decide(rising, POLICY, None)[:2] == ("scale_up", 3)


def test_scaling_up_at_max_instances_holds_and_one_below_scales() -> None:
    assert _decide(figures(current=10, average=0.9, recent=0.9), POLICY, None) == (
        "hold",
        10,
        "average load 90% of max_concurrent, sustained, but already at the maximum of 10",
    )
    assert _decide(figures(current=9, average=0.9, recent=0.9), POLICY, None)[:2] == (
        "scale_up",
        10,
    )


def test_rule_5_a_high_average_falling_lately_holds() -> None:
    assert _decide(figures(average=0.8, recent=0.5), POLICY, None) == (
        "hold",
        4,
        "average load 80% but falling (50% lately)",
    )


def test_rule_5_a_spike_at_the_threshold_holds() -> None:
    assert _decide(figures(average=0.5, p95=0.8, recent=0.79), POLICY, None) == (
        "hold",
        4,
        "a spike (p95 80%, average 50%): not sustained",
    )
    # the same p95 with the recent load as high is no spike: the middle band
    assert _decide(figures(average=0.5, p95=0.8, recent=0.8), POLICY, None) == (
        "hold",
        4,
        "average load 50% within 30%..80%",
    )


def test_rule_6_idle_at_the_threshold_scales_down_to_the_load() -> None:
    # 10 instances at 30 %: 10 * 0.3 / 0.8 * 1.25 = 4.69 -> 5
    assert _decide(figures(current=10, average=0.3, p95=0.79, error_rate=5.0), POLICY, None) == (
        "scale_down",
        5,
        "average load 30%, p95 79%: more instances than work",
    )
    assert _decide(figures(current=10, average=0.31, p95=0.5), POLICY, None)[0] == "hold"


def test_rule_6_never_suggests_as_many_instances_as_now() -> None:
    tight = ScalingPolicy(scale_up_at=0.35, scale_down_at=0.3)  # 2 * 0.3 / 0.35 * 1.25 -> 3
    assert _decide(figures(current=2, average=0.3, p95=0.3), tight, None)[:2] == ("scale_down", 1)


def test_rule_6_keeps_min_instances() -> None:
    two = ScalingPolicy(min_instances=2)
    assert _decide(figures(current=3, average=0.0, p95=0.0), two, None)[:2] == ("scale_down", 2)
    assert _decide(figures(current=2, average=0.0, p95=0.0), two, None) == (
        "hold",
        2,
        "idle, already at the minimum of 2",
    )


def test_rule_6_holds_an_idle_pool_with_errors_above_the_limit() -> None:
    assert _decide(figures(average=0.1, p95=0.1, error_rate=7.3), POLICY, None) == (
        "hold",
        4,
        "idle but 7.3% errors: not the time to shrink",
    )


def test_rule_6_needs_p95_below_scale_up_at() -> None:
    # p95 at the threshold with the recent load as high: neither spike nor idle
    assert _decide(figures(average=0.2, p95=0.8, recent=0.8), POLICY, None) == (
        "hold",
        4,
        "average load 20% within 30%..80%",
    )


# -- cooldown and the advice ------------------------------------------------


def previous(action: str, at: datetime | None) -> Advice:
    return Advice(
        action=action,  # type: ignore[arg-type]
        current_instances=4,
        suggested_instances=5,
        reason="before",
        decided_at=at,
    )


def test_cooldown_holds_the_opposite_action_until_cooldown_s_has_passed() -> None:
    now = figures(end=T0 + timedelta(seconds=299))
    assert _cool_down("scale_down", "idle", now, POLICY, previous("scale_up", T0)) == (
        "hold",
        "idle; held: scale_up 299 s ago (cooldown 300 s)",
    )
    at_edge = figures(end=T0 + timedelta(seconds=300))
    assert _cool_down("scale_down", "idle", at_edge, POLICY, previous("scale_up", T0)) == (
        "scale_down",
        "idle",
    )


@pytest.mark.parametrize(
    ("action", "before"),
    [
        ("hold", previous("scale_up", T0)),  # holding needs no cooldown
        ("scale_down", None),
        ("scale_down", previous("hold", T0)),
        ("scale_down", previous("scale_down", T0)),  # the same direction again
        ("scale_down", previous("scale_up", None)),  # no time to measure from
    ],
)
def test_cooldown_lets_through_what_it_does_not_hold(action: str, before: Advice | None) -> None:
    now = figures(end=T0 + timedelta(seconds=1))
    assert _cool_down(action, "why", now, POLICY, before) == (action, "why")  # type: ignore[arg-type]


def test_cooldown_without_an_end_time_lets_the_action_through() -> None:
    assert _cool_down("scale_up", "why", figures(end=None), POLICY, previous("scale_down", T0)) == (
        "scale_up",
        "why",
    )


def test_advice_carries_its_figures_rounded_and_holds_at_the_current_count() -> None:
    history = {"a": [sample(0, 0, 0), sample(5, 0, 300, 1), sample(9, 0, 600, 1)]}
    busy = previous("scale_up", T0 + timedelta(minutes=8))
    advice = advise({**history, "b": [sample(9, 0)]}, policy=POLICY, queue=0, previous=busy)
    assert advice == Advice(
        action="hold",
        current_instances=2,
        suggested_instances=2,  # the scale-down target is not suggested while held
        reason="average load 0%, p95 0%: more instances than work; held: scale_up 60 s ago "
        "(cooldown 300 s)",
        average_load=0.0,
        p95_load=0.0,
        error_rate=round(100 / 600, 4),
        trend=0.0,
        samples=4,
        window_s=600.0,
        queue_depth=0,
        decided_at=T0 + timedelta(minutes=9),
    )


def test_advice_rounds_its_loads_to_four_places() -> None:
    advice = advise({"a": [sample(0, 1), sample(1, 1), sample(2, 2)]}, policy=POLICY)
    assert advice.average_load == 0.3333 and advice.p95_load == 0.5
    assert advice.trend == round(0.125, 4) and advice.samples == 3
