"""``hublog metrics --instance ID``: an instance's metrics over time, read
from its ``metrics/<id>`` stream: raw samples, or 1-minute / 1-hour means
(raw samples where the log still has them, ``MetricsRolledUp`` buckets
where retention has replaced them).  Requests and errors are counted as the
metrics projection counts them for those buckets, so both agree."""

from __future__ import annotations

from bisect import bisect
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eventstore import streams
from eventstore.events import InstanceRegistered, MetricsRolledUp, MetricsSampled
from eventstore.store import EventStore
from projections.policy import floor_to

from .errors import InvalidInput

RESOLUTIONS = {"raw": 0, "1m": 60, "1h": 3600}
COLUMNS = (
    ("avg_response_time_ms", "resp ms"),
    ("p95_response_time_ms", "p95 ms"),
    ("error_rate", "err %"),
    ("cpu_percent", "cpu %"),
    ("memory_percent", "mem %"),
    ("active_connections", "conns"),
    ("requests", "requests"),
)


@dataclass
class Sample:
    """One row: a raw sample or one bucket's means."""

    at: datetime
    values: dict[str, float] = field(default_factory=dict)
    count: int = 1

    def as_json(self, hub_id: str, instance_id: str) -> dict[str, Any]:
        return {
            "hub_id": hub_id,
            "instance": instance_id,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "samples": self.count,
            **self.values,
        }


async def series(
    store: EventStore,
    hub_id: str,
    instance_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    resolution: str = "raw",
) -> list[Sample]:
    """Raises: InvalidInput for an unknown resolution."""
    if resolution not in RESOLUTIONS:
        raise InvalidInput(f"unknown resolution {resolution!r}; use raw, 1m or 1h")
    raw, bucketed, rolled = await _read(store, hub_id, instance_id, RESOLUTIONS[resolution])
    rows = raw if resolution == "raw" else _buckets(bucketed, rolled, RESOLUTIONS[resolution])
    return [
        r for r in rows if (since is None or r.at >= since) and (until is None or r.at <= until)
    ]


async def _read(
    store: EventStore, hub_id: str, instance_id: str, seconds: int
) -> tuple[list[Sample], list[Sample], dict[datetime, Sample]]:
    """The raw samples, those of them that go into buckets, and the rolled-up
    buckets of ``seconds``."""
    raw: list[Sample] = []
    bucketed: list[Sample] = []
    rolled: dict[datetime, Sample] = {}
    counter = _Counter(await _registrations(store, hub_id, instance_id))
    stream = store.read_stream(hub_id, streams.metrics(instance_id))
    async with aclosing(stream) as events:
        async for event in events:
            data = event.event
            if isinstance(data, MetricsSampled):
                counted = counter.count(event.position, data)
                raw.append(_sample(data, *(counted or (0, 0))))
                if counted is not None:
                    bucketed.append(raw[-1])
            elif isinstance(data, MetricsRolledUp) and data.resolution_s == seconds:
                for bucket in data.buckets:
                    rolled[bucket.start] = _from_bucket(bucket)
    return raw, bucketed, rolled


def _sample(data: MetricsSampled, requests: int, errors: int) -> Sample:
    m = data.metrics
    values = {name: float(getattr(m, name, 0.0)) for name, _ in COLUMNS[:-2]}
    values |= {"active_connections": float(m.active_connections)}
    values |= {"requests": float(requests), "errors": float(errors)}
    values["error_rate"] = errors / requests * 100 if requests else 0.0
    return Sample(data.sampled_at, values)


async def _registrations(store: EventStore, hub_id: str, instance_id: str) -> list[int]:
    """The positions where the instance registered, each a new incarnation."""
    stream = store.read_stream(hub_id, streams.instance(instance_id))
    async with aclosing(stream) as events:
        return [e.position async for e in events if isinstance(e.event, InstanceRegistered)]


class _Counter:
    """Each sample's requests and errors as the metrics projection counts
    them for its rollups (``_sampled``, ``hour_counters`` and ``_delta`` in
    projections/metrics.py; docs/projections.md): since the previous sample
    of the same incarnation and hour, so never across an hour, which
    retention cuts at (its rollups then say the same); a counter that went
    down restarted, and counts from 0; a sample whose time is not after the
    previous one's is left out of the rollups, and so of the buckets here."""

    def __init__(self, registrations: list[int]) -> None:
        self.registrations = registrations
        self.previous: tuple[tuple[int, datetime], tuple[int, int]] | None = None
        """(incarnation, hour) and counters of the last sample counted."""
        self.last_at: datetime | None = None

    def count(self, position: int, sample: MetricsSampled) -> tuple[int, int] | None:
        """(requests, errors), or None for a sample the rollups leave out."""
        if self.last_at is not None and sample.sampled_at <= self.last_at:
            return None
        self.last_at = sample.sampled_at
        part = bisect(self.registrations, position), floor_to(sample.sampled_at, 3600)
        current = (sample.metrics.request_count, sample.metrics.error_count)
        previous = self.previous
        self.previous = part, current
        if previous is None or previous[0] != part:
            return 0, 0
        (p_req, p_err), (c_req, c_err) = previous[1], current
        return (c_req - p_req if c_req >= p_req else c_req), (
            c_err - p_err if c_err >= p_err else c_err
        )


def _from_bucket(bucket: Any) -> Sample:
    values = {name: bucket.stats[name][2] for name, _ in COLUMNS if name in bucket.stats}
    values["requests"], values["errors"] = float(bucket.request_delta), float(bucket.error_delta)
    rate = bucket.error_delta / bucket.request_delta * 100 if bucket.request_delta else 0.0
    values["error_rate"] = rate
    return Sample(bucket.start, values, bucket.count)


def _buckets(raw: list[Sample], rolled: dict[datetime, Sample], seconds: int) -> list[Sample]:
    groups: dict[datetime, list[Sample]] = {}
    for sample in raw:
        stamp = int(sample.at.timestamp()) // seconds * seconds
        groups.setdefault(datetime.fromtimestamp(stamp, UTC), []).append(sample)
    merged = dict(rolled)
    for start, samples in groups.items():
        merged[start] = _mean_of(start, samples)  # raw samples are the finer truth
    return [merged[k] for k in sorted(merged)]


def _mean_of(start: datetime, samples: list[Sample]) -> Sample:
    names = samples[0].values.keys()
    values = {n: sum(s.values[n] for s in samples) / len(samples) for n in names}
    requests = sum(s.values["requests"] for s in samples)
    errors = sum(s.values["errors"] for s in samples)
    values |= {"requests": requests, "errors": errors}
    values["error_rate"] = errors / requests * 100 if requests else 0.0
    return Sample(start, values, len(samples))
