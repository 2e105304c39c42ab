"""Rollup arithmetic: one open bucket's accumulator, and the bucket it yields.

The fold and the retention job both feed samples through :func:`add`, one
at a time in log order, so a bucket computed by either is the same to the
last bit (float sums depend on the order of addition).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import msgspec

from eventstore.events import RollupBucket
from eventstore.values import Metrics

NUMERIC = (
    "cpu_percent",
    "memory_percent",
    "memory_mb",
    "disk_io_mb",
    "network_io_mb",
    "request_count",
    "error_count",
    "avg_response_time_ms",
    "p95_response_time_ms",
    "p99_response_time_ms",
    "active_connections",
    "queued_requests",
)
_RESPONSE = NUMERIC.index("avg_response_time_ms")


class Acc(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """The running aggregates of one open bucket (values in :data:`NUMERIC` order)."""

    start: datetime
    count: int
    mins: tuple[float, ...]
    maxs: tuple[float, ...]
    sums: tuple[float, ...]
    # custom metric -> (min, max, sum, count): not every sample carries every one
    custom: dict[str, tuple[float, float, float, int]]
    response_times: tuple[float, ...]
    request_delta: int = 0
    error_delta: int = 0


def values_of(metrics: Metrics) -> tuple[float, ...]:
    m = metrics
    return (
        float(m.cpu_percent),
        float(m.memory_percent),
        float(m.memory_mb),
        float(m.disk_io_mb),
        float(m.network_io_mb),
        float(m.request_count),
        float(m.error_count),
        float(m.avg_response_time_ms),
        float(m.p95_response_time_ms),
        float(m.p99_response_time_ms),
        float(m.active_connections),
        float(m.queued_requests),
    )


def numeric_custom(custom: dict[str, Any]) -> dict[str, float]:
    return {
        name: float(value)
        for name, value in custom.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    }


def add(
    acc: Acc | None,
    start: datetime,
    values: tuple[float, ...],
    custom: dict[str, float],
    request_delta: int,
    error_delta: int,
) -> Acc:
    """``acc`` with one more sample; a new accumulator when ``acc`` is None."""
    if acc is None:
        return Acc(
            start=start,
            count=1,
            mins=values,
            maxs=values,
            sums=values,
            custom={name: (v, v, v, 1) for name, v in custom.items()},
            response_times=(values[_RESPONSE],),
            request_delta=request_delta,
            error_delta=error_delta,
        )
    merged = acc.custom
    if custom:
        merged = dict(acc.custom)
        for name, v in custom.items():
            old = merged.get(name)
            merged[name] = (
                (v, v, v, 1)
                if old is None
                else (min(old[0], v), max(old[1], v), old[2] + v, old[3] + 1)
            )
    return Acc(
        start=acc.start,
        count=acc.count + 1,
        mins=tuple(map(min, acc.mins, values)),
        maxs=tuple(map(max, acc.maxs, values)),
        sums=tuple(map(float.__add__, acc.sums, values)),
        custom=merged,
        response_times=(*acc.response_times, values[_RESPONSE]),
        request_delta=acc.request_delta + request_delta,
        error_delta=acc.error_delta + error_delta,
    )


def bucket(acc: Acc) -> RollupBucket:
    """The bucket an accumulator stands for."""
    n = acc.count
    stats = {name: (acc.mins[i], acc.maxs[i], acc.sums[i] / n) for i, name in enumerate(NUMERIC)}
    for name, (low, high, total, count) in sorted(acc.custom.items()):
        stats[f"custom.{name}"] = (low, high, total / count)
    return RollupBucket(
        start=acc.start,
        count=n,
        stats=stats,
        p95_response_time_ms=p95(acc.response_times),
        request_delta=acc.request_delta,
        error_delta=acc.error_delta,
    )


def p95(values: tuple[float, ...]) -> float:
    """Nearest-rank 95th percentile (0.0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
