"""The scaling advisor: scale up, down or hold, from a hub's metric history.

A pure function (the seed's use case 3, without its division by zero): the
figures it used go into the answer, so a ``ScalingAdvised`` event explains
itself.  Load is per sample ``active_connections / max_concurrent`` (1.0:
every slot of the instance busy).

The rules, in order (``ScalingPolicy`` holds the numbers):

1. fewer than ``min_samples`` samples in the window: hold (nothing to go on);
2. a queue of waiting requests (``queue``, fed by the hub's queue) of at
   least ``queue_per_instance`` per instance: scale up;
3. average load >= ``scale_up_at`` and the latest third of the window as
   high (sustained, not a burst that is over): scale up;
4. average load >= ``rising_at`` and rising by >= ``rising_trend`` per
   minute: scale up before the pool is full;
5. average load high but the latest third below it: falling, hold; only
   the 95th percentile high (>= ``scale_up_at``): a spike, hold;
6. average load <= ``scale_down_at`` and p95 < ``scale_up_at``, no errors
   above ``max_error_rate``, more than ``min_instances``: scale down;
7. otherwise hold.

Hysteresis: the dead band between ``scale_down_at`` and ``scale_up_at``;
rule 3's "sustained"; and a ``cooldown_s`` after a scale action during which
the opposite action is held (pass the previous advice as ``previous``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal, Protocol

import msgspec

from eventstore.values import Metrics

Action = Literal["scale_up", "scale_down", "hold"]


class Sample(Protocol):
    """What the advisor reads of a sample: a ``SampleRow`` or a ``MetricsSampled``."""

    @property
    def sampled_at(self) -> datetime: ...
    @property
    def metrics(self) -> Metrics: ...


class ScalingPolicy(msgspec.Struct, frozen=True, kw_only=True):
    max_concurrent: int = 4
    window_s: float = 600.0
    scale_up_at: float = 0.8
    scale_down_at: float = 0.3
    rising_at: float = 0.6
    rising_trend: float = 0.03
    """Load per minute: 0.03 reaches 0.8 from 0.6 in under 7 minutes."""
    max_error_rate: float = 5.0
    """Percent of requests; above it a pool is not scaled down."""
    queue_per_instance: float = 1.0
    min_instances: int = 1
    max_instances: int = 10
    min_samples: int = 3
    cooldown_s: float = 300.0


class Advice(msgspec.Struct, frozen=True, kw_only=True):
    action: Action
    current_instances: int
    suggested_instances: int
    reason: str
    average_load: float = 0.0
    p95_load: float = 0.0
    error_rate: float = 0.0
    trend: float = 0.0
    samples: int = 0
    window_s: float = 0.0
    queue_depth: int | None = None
    decided_at: datetime | None = None


class _Figures(msgspec.Struct, frozen=True, kw_only=True):
    current: int
    samples: int
    average: float
    recent: float
    p95: float
    error_rate: float
    trend: float
    end: datetime | None


def advise(
    history: Mapping[str, Sequence[Sample]],
    *,
    policy: ScalingPolicy,
    queue: int | None = None,
    previous: Advice | None = None,
) -> Advice:
    """The advice for a pool whose samples per instance id are ``history``
    (oldest first or not: they are sorted), judged over the policy's window
    ending at the latest sample."""
    figures = measure(history, policy)
    action, target, reason = _decide(figures, policy, queue)
    action, reason = _cool_down(action, reason, figures, policy, previous)
    suggested = target if action != "hold" else figures.current
    return Advice(
        action=action,
        current_instances=figures.current,
        suggested_instances=suggested,
        reason=reason,
        average_load=round(figures.average, 4),
        p95_load=round(figures.p95, 4),
        error_rate=round(figures.error_rate, 4),
        trend=round(figures.trend, 4),
        samples=figures.samples,
        window_s=policy.window_s,
        queue_depth=queue,
        decided_at=figures.end,
    )


def measure(history: Mapping[str, Sequence[Sample]], policy: ScalingPolicy) -> _Figures:
    """The window's figures; all zero for an empty history."""
    latest = [max(s.sampled_at for s in samples) for samples in history.values() if samples]
    if not latest:
        return _Figures(
            current=0, samples=0, average=0, recent=0, p95=0, error_rate=0, trend=0, end=None
        )
    end = max(latest)
    start = end - timedelta(seconds=policy.window_s)
    window = {
        iid: sorted((s for s in samples if s.sampled_at >= start), key=lambda s: s.sampled_at)
        for iid, samples in history.items()
    }
    window = {iid: samples for iid, samples in window.items() if samples}
    points = [
        ((s.sampled_at - start).total_seconds() / 60, _load(s.metrics, policy))
        for samples in window.values()
        for s in samples
    ]
    loads = sorted(load for _, load in points)
    recent_from = policy.window_s / 60 * 2 / 3
    recent = [load for minute, load in points if minute >= recent_from] or loads
    return _Figures(
        current=len(window),
        samples=len(points),
        average=sum(loads) / len(loads),
        recent=sum(recent) / len(recent),
        p95=loads[max(0, math.ceil(0.95 * len(loads)) - 1)],  # nearest rank
        error_rate=_error_rate(window.values()),
        trend=_slope(points),
        end=end,
    )


def _load(metrics: Metrics, policy: ScalingPolicy) -> float:
    return metrics.active_connections / max(1, policy.max_concurrent)


def _error_rate(series: Iterable[Sequence[Sample]]) -> float:
    """Errors per request in percent over the window, from the counters'
    growth per instance (a counter that went down restarted: skipped)."""
    requests = errors = 0
    for samples in series:
        for a, b in itertools.pairwise(samples):
            dr = b.metrics.request_count - a.metrics.request_count
            de = b.metrics.error_count - a.metrics.error_count
            if dr >= 0 and de >= 0:
                requests, errors = requests + dr, errors + de
    return errors / requests * 100 if requests else 0.0


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of load over minutes (0 with fewer than 2 times)."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    if var == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var


def _decide(f: _Figures, p: ScalingPolicy, queue: int | None) -> tuple[Action, int, str]:
    if f.samples < p.min_samples:
        return "hold", f.current, f"only {f.samples} samples in the window (need {p.min_samples})"
    up = min(p.max_instances, max(f.current + 1, math.ceil(f.current * f.average / p.scale_up_at)))
    if queue is not None and queue >= p.queue_per_instance * max(1, f.current):
        return _up(f, p, up, f"{queue} requests queued for {f.current} instances")
    if f.average >= p.scale_up_at and f.recent >= p.scale_up_at:
        return _up(f, p, up, f"average load {f.average:.0%} of max_concurrent, sustained")
    if f.average >= p.rising_at and f.trend >= p.rising_trend:
        why = f"average load {f.average:.0%} and rising {f.trend:.0%} per minute"
        return _up(f, p, f.current + 1, why)
    if f.average >= p.scale_up_at:
        return (
            "hold",
            f.current,
            f"average load {f.average:.0%} but falling ({f.recent:.0%} lately)",
        )
    if f.p95 >= p.scale_up_at and f.recent < p.scale_up_at:
        return (
            "hold",
            f.current,
            f"a spike (p95 {f.p95:.0%}, average {f.average:.0%}): not sustained",
        )
    if f.average <= p.scale_down_at and f.p95 < p.scale_up_at:
        if f.error_rate > p.max_error_rate:
            return "hold", f.current, f"idle but {f.error_rate:.1f}% errors: not the time to shrink"
        if f.current <= p.min_instances:
            return "hold", f.current, f"idle, already at the minimum of {p.min_instances}"
        target = max(p.min_instances, math.ceil(f.current * f.average / p.scale_up_at * 1.25))
        why = f"average load {f.average:.0%}, p95 {f.p95:.0%}: more instances than work"
        return "scale_down", min(target, f.current - 1), why
    return (
        "hold",
        f.current,
        f"average load {f.average:.0%} within {p.scale_down_at:.0%}..{p.scale_up_at:.0%}",
    )


def _up(f: _Figures, p: ScalingPolicy, target: int, why: str) -> tuple[Action, int, str]:
    if f.current >= p.max_instances:
        return "hold", f.current, f"{why}, but already at the maximum of {p.max_instances}"
    return "scale_up", target, why


def _cool_down(
    action: Action, reason: str, f: _Figures, p: ScalingPolicy, previous: Advice | None
) -> tuple[Action, str]:
    """Hold an action against the direction of a recent one (no flapping)."""
    if action == "hold" or previous is None or previous.action in ("hold", action):
        return action, reason
    if previous.decided_at is None or f.end is None:
        return action, reason
    since = (f.end - previous.decided_at).total_seconds()
    if since < p.cooldown_s:
        held = (
            f"{reason}; held: {previous.action} {since:.0f} s ago (cooldown {p.cooldown_s:.0f} s)"
        )
        return "hold", held
    return action, reason
