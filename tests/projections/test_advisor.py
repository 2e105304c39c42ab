"""The scaling advisor on crafted histories: rising load, a spike, idle,
flapping, an empty history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eventstore import Metrics, MetricsSampled
from projections.advisor import Advice, ScalingPolicy, advise

POLICY = ScalingPolicy(max_concurrent=4, window_s=600, min_instances=1, max_instances=8)
T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def history(loads: list[list[int]], *, errors: int = 0) -> dict[str, list[MetricsSampled]]:
    """``loads[i][t]``: active connections of instance i at minute t."""
    return {
        f"ollama-{i}": [
            MetricsSampled(
                metrics=Metrics(
                    active_connections=c, request_count=100 * t, error_count=errors * t
                ),
                sampled_at=T0 + timedelta(minutes=t),
            )
            for t, c in enumerate(series)
        ]
        for i, series in enumerate(loads)
    }


def test_an_empty_history_holds_without_dividing_by_zero() -> None:
    advice = advise({}, policy=POLICY)
    assert (advice.action, advice.current_instances, advice.samples) == ("hold", 0, 0)
    assert "0 samples" in advice.reason
    assert advise({"ollama-1": []}, policy=POLICY).action == "hold"


def test_sustained_high_load_scales_up_with_its_figures() -> None:
    advice = advise(history([[4] * 10, [3, 4] * 5]), policy=POLICY)
    assert advice.action == "scale_up" and advice.suggested_instances == 3
    assert advice.average_load >= 0.8 and advice.p95_load == 1.0
    assert advice.current_instances == 2 and advice.samples == 20 and "sustained" in advice.reason


def test_rising_load_scales_up_before_the_pool_is_full() -> None:
    rising = [1, 1, 2, 2, 2, 3, 3, 3, 4, 4]
    advice = advise(history([rising, rising]), policy=POLICY)
    assert advice.action == "scale_up" and advice.trend > 0.03
    assert "rising" in advice.reason


def test_a_spike_is_held() -> None:
    spiky = [1, 1, 1, 4, 4, 1, 1, 1, 1, 1]
    advice = advise(history([spiky, [1] * 10]), policy=POLICY)
    assert advice.action == "hold" and "spike" in advice.reason
    assert advice.p95_load == 1.0 and advice.average_load < 0.8


def test_an_idle_pool_scales_down_unless_it_errs() -> None:
    idle = history([[0] * 10, [1, 0] * 5, [0] * 10])
    down = advise(idle, policy=POLICY)
    assert down.action == "scale_down" and down.suggested_instances < 3
    erring = advise(history([[0] * 10, [0] * 10], errors=10), policy=POLICY)
    assert erring.action == "hold" and erring.error_rate == 10.0 and "errors" in erring.reason


def test_a_flapping_load_does_not_flap_the_advice() -> None:
    busy = advise(history([[4] * 10, [4] * 10]), policy=POLICY)
    assert busy.action == "scale_up"
    # three minutes later the pool looks idle: within the cooldown, held
    quiet = {
        iid: [MetricsSampled(metrics=Metrics(), sampled_at=busy.decided_at + timedelta(minutes=m))
              for m in (1, 2, 3)]
        for iid in ("ollama-0", "ollama-1", "ollama-2")
    }  # fmt: skip
    held = advise(quiet, policy=POLICY, previous=busy)
    assert held.action == "hold" and "cooldown" in held.reason
    later = advise(quiet, policy=POLICY.__class__(cooldown_s=60), previous=busy)
    assert later.action == "scale_down"
    # between the thresholds nothing moves either way
    middle = advise(history([[2] * 10, [2] * 10]), policy=POLICY)
    assert middle.action == "hold" and isinstance(middle, Advice)


def test_a_queue_scales_up() -> None:
    advice = advise(history([[2] * 10]), policy=POLICY, queue=5)
    assert advice.action == "scale_up" and advice.queue_depth == 5
