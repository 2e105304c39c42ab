"""Rollup arithmetic: the open minute's samples, the open hour's aggregate,
and the buckets they yield.

A minute keeps its samples' values; when it closes, its aggregate (sums by
``math.fsum``: correctly rounded, so independent of order and of the Python
version) is merged into its hour.  The fold and the retention job share
this code and feed it the same samples in log order, so a bucket computed
by either is the same to the last bit.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import msgspec

from eventstore.events import RollupBucket
from eventstore.values import Metrics

from .policy import floor_to

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
"""The numeric fields of Metrics, in declaration order (see :func:`values_of`)."""
_RESPONSE = NUMERIC.index("avg_response_time_ms")
_N = len(NUMERIC)


class Minute(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """The open minute: its samples' values, as they came."""

    start: datetime
    values: tuple[tuple[float, ...], ...]
    custom: tuple[dict[str, float], ...]
    request_delta: int = 0
    error_delta: int = 0


class Aggregate(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """Closed minutes merged: what a bucket needs, in :data:`NUMERIC` order."""

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
    """The numeric fields, in :data:`NUMERIC` order (ints stay ints: no
    conversion per sample; :func:`bucket` makes floats)."""
    return msgspec.structs.astuple(metrics)[:_N]


def numeric_custom(custom: dict[str, Any]) -> dict[str, float]:
    if not custom:
        return {}
    return {
        name: float(value)
        for name, value in custom.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    }


def add(
    minute: Minute | None,
    start: datetime,
    values: tuple[float, ...],
    custom: dict[str, float],
    request_delta: int,
    error_delta: int,
) -> Minute:
    """``minute`` with one more sample (a new minute at ``start`` for None)."""
    if minute is None:
        return Minute(
            start=start,
            values=(values,),
            custom=(custom,),
            request_delta=request_delta,
            error_delta=error_delta,
        )
    return Minute(
        start=minute.start,
        values=(*minute.values, values),
        custom=(*minute.custom, custom),
        request_delta=minute.request_delta + request_delta,
        error_delta=minute.error_delta + error_delta,
    )


def close(minute: Minute) -> Aggregate:
    """The aggregate of a minute's samples."""
    values = minute.values
    custom: dict[str, tuple[float, float, float, int]] = {}
    if any(minute.custom):
        by_name: dict[str, list[float]] = {}
        for sample in minute.custom:
            for name, value in sample.items():
                by_name.setdefault(name, []).append(value)
        custom = {n: (min(v), max(v), math.fsum(v), len(v)) for n, v in sorted(by_name.items())}
    columns = tuple(zip(*values, strict=True))  # one per field of NUMERIC
    return Aggregate(
        start=minute.start,
        count=len(values),
        mins=tuple(map(float, map(min, columns))),
        maxs=tuple(map(float, map(max, columns))),
        sums=tuple(map(math.fsum, columns)),
        custom=custom,
        response_times=tuple(map(float, columns[_RESPONSE])),
        request_delta=minute.request_delta,
        error_delta=minute.error_delta,
    )


def merge(hour: Aggregate | None, part: Aggregate) -> Aggregate:
    """An hour with one more closed minute (a new hour for None)."""
    if hour is None:
        return msgspec.structs.replace(part, start=floor_to(part.start, 3600))
    custom = hour.custom
    if part.custom:
        custom = dict(custom)
        for name, (low, high, total, n) in part.custom.items():
            old = custom.get(name)
            custom[name] = (
                (low, high, total, n)
                if old is None
                else (min(old[0], low), max(old[1], high), old[2] + total, old[3] + n)
            )
    return Aggregate(
        start=hour.start,
        count=hour.count + part.count,
        mins=tuple(map(min, hour.mins, part.mins)),
        maxs=tuple(map(max, hour.maxs, part.maxs)),
        sums=tuple(map(float.__add__, hour.sums, part.sums)),
        custom=custom,
        response_times=hour.response_times + part.response_times,
        request_delta=hour.request_delta + part.request_delta,
        error_delta=hour.error_delta + part.error_delta,
    )


def bucket(agg: Aggregate) -> RollupBucket:
    """The bucket an aggregate stands for."""
    n = agg.count
    means = [total / n for total in agg.sums]
    stats = dict(zip(NUMERIC, zip(agg.mins, agg.maxs, means, strict=True), strict=True))
    for name, (low, high, total, count) in sorted(agg.custom.items()):
        stats[f"custom.{name}"] = (low, high, total / count)
    return RollupBucket(
        start=agg.start,
        count=n,
        stats=stats,
        p95_response_time_ms=p95(agg.response_times),
        request_delta=agg.request_delta,
        error_delta=agg.error_delta,
    )


def p95(values: tuple[float, ...]) -> float:
    """Nearest-rank 95th percentile (0.0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
