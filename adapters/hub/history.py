"""Metric history as Gleitzeit asks for it: raw samples where the log still
has them, 1-minute and then 1-hour rollups for older stretches (marked as
such), oldest first, every entry with a ``timestamp``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from eventstore.events import RollupBucket
from projections import MetricHistory, MetricsProjection, ReadModels, SampleRow
from projections.readmodel import Projection, ReadModel

from .convert import metrics_dict, naive_iso, utc

_COUNTERS = ("request_count", "error_count", "active_connections", "queued_requests")
_TICK = timedelta(microseconds=1)


def window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """``[start, end]`` (naive times are UTC) as the half-open span the read
    models take.

    Raises: InvalidEventError for a value that is not a datetime.
    """
    low, high = utc(start, "start_time"), utc(end, "end_time")
    assert low is not None and high is not None
    return low, high + _TICK


def raw_from(projection: Projection[Any], state: ReadModel, instance_id: str) -> datetime | None:
    """From when on the metrics read model holds every raw sample of the
    instance (none cut by its own window, none removed by retention), or
    None when that is not known."""
    if not isinstance(state, MetricHistory) or not isinstance(projection, MetricsProjection):
        return None
    cuts = projection.cuts(state.meta)
    if cuts is None or not projection.raw_samples:
        return None
    head = state.series.get(instance_id)
    rolled = head.rolled_until if head is not None else None
    return max(cuts["samples"], rolled) if rolled is not None else cuts["samples"]


async def history(
    reader: ReadModels,
    hub_id: str,
    instance_id: str,
    start: datetime,
    end: datetime,
    raw_from: datetime | None = None,
) -> list[dict[str, Any]]:
    """Entries in ``[start, end)``: hour rollups, then minute rollups, then raw
    samples, each kind only for the stretch before the next finer one begins.
    A window from ``raw_from`` on is all raw samples: one read.

    Raises: BackendUnavailable, StoreClosed.
    """
    raw = await reader.samples(hub_id, instance_id, start, end)
    if raw_from is not None and start >= raw_from:
        return [_sample_entry(s) for s in raw]
    edge = raw[0].sampled_at if raw else end
    minutes = _complete(await reader.rollups(hub_id, instance_id, 60, start, edge), 60, edge)
    edge = minutes[0].start if minutes else edge
    hours = _complete(await reader.rollups(hub_id, instance_id, 3600, start, edge), 3600, edge)
    return (
        [_bucket_entry(b, 3600) for b in hours]
        + [_bucket_entry(b, 60) for b in minutes]
        + [_sample_entry(s) for s in raw]
    )


def _complete(buckets: list[RollupBucket], seconds: int, edge: datetime) -> list[RollupBucket]:
    # A bucket reaching past the edge holds samples the finer kind has.
    return [b for b in buckets if b.start + timedelta(seconds=seconds) <= edge]


def _sample_entry(row: SampleRow) -> dict[str, Any]:
    entry = metrics_dict(row.metrics)
    entry.update(
        timestamp=naive_iso(row.sampled_at),
        rollup=False,
        resolution_s=None,
        samples=1,
        incarnation=row.incarnation,
    )
    return entry


def _bucket_entry(bucket: RollupBucket, seconds: int) -> dict[str, Any]:
    """A rollup as an entry: gauges are the bucket's means, counters its
    maxima; ``rollup=True`` says it stands for ``samples`` raw samples."""
    entry: dict[str, Any] = {}
    for name, (_low, high, mean) in bucket.stats.items():
        if not name.startswith("custom."):
            entry[name] = high if name in _COUNTERS else mean
    entry.update(
        timestamp=naive_iso(bucket.start.astimezone(UTC)),
        p95_response_time_ms=bucket.p95_response_time_ms,
        error_rate=bucket.error_rate,
        request_delta=bucket.request_delta,
        error_delta=bucket.error_delta,
        rollup=True,
        resolution_s=seconds,
        samples=bucket.count,
    )
    return entry
