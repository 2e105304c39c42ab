"""The metric history: raw samples inside the retention window, and 1-minute
and 1-hour rollups kept longer.

Tables (keys start with the instance id, so one series is one key range):

* ``series`` (head): per instance, the incarnation, the last accepted sample,
  the open minute and hour accumulators;
* ``samples``: ``<id>{<sampled_at>{<version>`` -> :class:`SampleRow`;
* ``rollups_1m`` / ``rollups_1h``: ``<id>{<bucket start>`` -> RollupBucket.
  Open buckets are derived from the accumulators, closed ones are folded.

Expiry is by the log's clock (the latest ``recorded_at``), floored to the
minute, so a rebuild expires exactly what the live model did.  A
``MetricsRolledUp`` event sets the buckets it carries: that is how rollups
survive retention removing their samples from the log.
"""

# msgspec copies empty-collection defaults per instance; ruff cannot see that
# through a ReadModel subclass.
# ruff: noqa: RUF012

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

import msgspec
from msgspec.structs import replace

from eventstore import streams
from eventstore.envelope import RecordedEvent
from eventstore.events import (
    InstanceDeregistered,
    InstanceRegistered,
    MetricsRolledUp,
    MetricsSampled,
    RollupBucket,
)
from eventstore.values import Metrics

from . import anomalies, keys, rollup
from .policy import RetentionPolicy, floor_to
from .readmodel import Meta, Projection, ReadModel, flag

TABLE_BY_RESOLUTION = {60: "rollups_1m", 3600: "rollups_1h"}
EXPIRING = ("samples", "rollups_1m", "rollups_1h")
_MINUTE = timedelta(minutes=1)


class SampleRow(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: str
    incarnation: int
    version: int
    position: int
    sampled_at: datetime
    recorded_at: datetime
    metrics: Metrics


class SeriesHead(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: str
    registered: bool = False
    incarnation: int = 0
    samples: int = 0
    last_version: int = 0
    last_sampled_at: datetime | None = None
    """Of the last accepted sample (times must increase to be rolled up)."""
    counters: tuple[int, int] | None = None
    """(request_count, error_count) of the last sample of this incarnation."""
    hour_counters: tuple[int, int] | None = None
    """The same, if that sample is in the open hour: deltas never cross an hour,
    so retention (which cuts at hours) cannot change them."""
    minute: rollup.Minute | None = None
    """The open minute's samples."""
    hour: rollup.Aggregate | None = None
    """The open hour's closed minutes (the open minute belongs to it too)."""
    hours: tuple[tuple[datetime, int], ...] = ()
    """(hour, version of the first sample at or after it) for the hours where
    retention may cut: it finds the cut without reading the log."""
    hours_from: datetime | None = None
    """``hours`` is complete from this hour on (None: from the first sample)."""
    rolled_through: int = 0
    """The highest ``through_version`` of the stream's MetricsRolledUp events."""
    rolled_until: datetime | None = None
    """Every sample before this hour is summarised by MetricsRolledUp events."""

    def first_version_from(self, hour: datetime) -> tuple[datetime, int] | None:
        """``(hour, version)`` of the first sample at or after ``hour`` (moved
        later to where ``hours`` is complete), or None if there is none."""
        if self.hours_from is not None and hour < self.hours_from:
            hour = self.hours_from
        for start, version in self.hours:
            if start >= hour:
                return hour, version
        return None

    def open_buckets(self) -> dict[str, RollupBucket]:
        """``{table: bucket}`` of the open minute and hour."""
        if self.minute is None:
            return {}
        minute = rollup.close(self.minute)
        return {
            "rollups_1m": rollup.bucket(minute),
            "rollups_1h": rollup.bucket(rollup.merge(self.hour, minute)),
        }

    def open_start(self, table: str) -> datetime | None:
        if self.minute is None:
            return None
        return self.minute.start if table == "rollups_1m" else floor_to(self.minute.start, 3600)


class MetricsMeta(Meta, frozen=True, kw_only=True):
    expired_at: datetime | None = None
    """The clock minute of the last expiry pass."""


class MetricHistory(ReadModel, frozen=True, kw_only=True):
    HEAD = ("series",)

    meta: MetricsMeta = MetricsMeta()
    series: dict[str, SeriesHead] = {}
    samples: dict[str, SampleRow] = {}
    rollups_1m: dict[str, RollupBucket] = {}
    rollups_1h: dict[str, RollupBucket] = {}


class MetricsProjection(Projection[MetricHistory]):
    name: ClassVar[str] = "metrics"
    state_type = MetricHistory
    categories = frozenset({"metrics", "instance"})
    event_types = frozenset(
        {"InstanceRegistered", "InstanceDeregistered", "MetricsSampled", "MetricsRolledUp"}
    )
    clock_resolution: ClassVar[int | None] = 60  # expiry and cuts read the clock's minute

    def __init__(self, policy: RetentionPolicy | None = None, *, raw_samples: bool = True) -> None:
        """``raw_samples=False`` keeps no ``samples`` rows (the retention job
        only needs the rollups)."""
        self.policy = policy or RetentionPolicy()
        self.raw_samples = raw_samples
        # memo of the clock's minute: (start, end, cuts); a log's clock stays
        # in one minute for many events, and flooring a datetime is not cheap
        self._span: tuple[datetime, datetime, dict[str, datetime]] | None = None

    def fingerprint(self, hub_id: str) -> str:
        raw = "" if self.raw_samples else ":no-samples"
        return f"{super().fingerprint(hub_id)}:{self.policy.tag}{raw}"

    def cuts(self, meta: Meta) -> dict[str, datetime] | None:
        """The oldest time each expiring table keeps now (None before any event)."""
        if meta.clock is None:
            return None
        return self._minute_of(meta.clock)[2]

    def _minute_of(self, clock: datetime) -> tuple[datetime, datetime, dict[str, datetime]]:
        """``(start, end, cuts)`` of the clock minute holding ``clock``."""
        span = self._span
        if span is None or not span[0] <= clock < span[1]:
            start = floor_to(clock, 60)
            span = self._span = (start, start + _MINUTE, self.policy.cuts(start))
        return span

    def tick(self, state: MetricHistory, meta: Meta) -> MetricHistory:
        assert isinstance(meta, MetricsMeta) and meta.clock is not None
        minute, _, cuts = self._minute_of(meta.clock)
        if meta.expired_at is not None and minute <= meta.expired_at:
            return replace(state, meta=meta)
        expired = {t: _younger(getattr(state, t), cuts[t]) for t in EXPIRING}
        return replace(state, meta=replace(meta, expired_at=minute), **expired)

    def prunes(self, before: MetricHistory, after: MetricHistory) -> list[tuple[str, str, str]]:
        if after.meta.expired_at is None or after.meta.expired_at == before.meta.expired_at:
            return []
        cuts = self.policy.cuts(after.meta.expired_at)
        bounds = [(t, keys.ts(cuts[t])) for t in EXPIRING]
        ranges: list[Any] = []
        for instance_id in sorted(after.series):
            start, _ = keys.entity_span(instance_id)
            ranges.extend((t, start, start + bound) for t, bound in bounds)
        return ranges

    def derived(self, state: MetricHistory) -> dict[str, dict[str, Any]]:
        """The open buckets, as rows."""
        cuts = self.cuts(state.meta)
        rows: dict[str, dict[str, Any]] = {"rollups_1m": {}, "rollups_1h": {}}
        if cuts is None:
            return rows
        for head in state.series.values():
            for table, bucket in head.open_buckets().items():
                if bucket.start >= cuts[table]:
                    rows[table][keys.join(head.instance_id, keys.ts(bucket.start))] = bucket
        return rows

    def evolve(self, state: MetricHistory, event: RecordedEvent) -> MetricHistory:
        instance_id = streams.entity_of(event.stream) or ""
        head = state.series.get(instance_id) or SeriesHead(instance_id=instance_id)
        e = event.event
        if isinstance(e, InstanceRegistered):
            head = replace(
                head,
                registered=True,
                incarnation=head.incarnation + 1,
                counters=None,
                hour_counters=None,
            )
            return _put(state, head)
        if isinstance(e, InstanceDeregistered):
            return _put(state, replace(head, registered=False))
        if isinstance(e, MetricsSampled):
            return self._sampled(state, event, e, head)
        if isinstance(e, MetricsRolledUp):
            return self._rolled_up(state, event, e, head)
        return state

    def _sampled(
        self, state: MetricHistory, event: RecordedEvent, e: MetricsSampled, head: SeriesHead
    ) -> MetricHistory:
        m = e.metrics
        if not head.registered:
            state = flag(
                state,
                event,
                anomalies.UNREGISTERED,
                f"metrics for unregistered instance {head.instance_id!r}",
            )
        if m.error_count > m.request_count:
            detail = f"error_count {m.error_count} > request_count {m.request_count}"
            state = flag(state, event, anomalies.ERRORS_EXCEED_REQUESTS, detail)
        if head.counters is not None and (
            m.request_count < head.counters[0] or m.error_count < head.counters[1]
        ):
            detail = (
                f"({m.request_count}, {m.error_count}) after {head.counters} (requests, errors)"
            )
            state = flag(state, event, anomalies.COUNTER_DECREASED, detail)
        cuts = self.cuts(state.meta)
        assert cuts is not None
        samples = state.samples
        if self.raw_samples and e.sampled_at >= cuts["samples"]:
            row = SampleRow(
                instance_id=head.instance_id,
                incarnation=head.incarnation,
                version=event.version,
                position=event.position,
                sampled_at=e.sampled_at,
                recorded_at=event.recorded_at,
                metrics=m,
            )
            key = keys.join(head.instance_id, keys.ts(e.sampled_at), keys.seq(event.version))
            samples = {**samples, key: row}
        if head.last_sampled_at is not None and e.sampled_at <= head.last_sampled_at:
            detail = (
                f"sampled at {e.sampled_at}, not after {head.last_sampled_at}: left out of rollups"
            )
            state = flag(state, event, anomalies.SAMPLE_TIME_NOT_INCREASING, detail)
            head = replace(head, samples=head.samples + 1, last_version=event.version)
            return replace(state, samples=samples, series={**state.series, head.instance_id: head})
        return self._rolled(state, samples, head, e, cuts, event.version)

    def _rolled(
        self,
        state: MetricHistory,
        samples: dict[str, SampleRow],
        head: SeriesHead,
        e: MetricsSampled,
        cuts: dict[str, datetime],
        version: int,
    ) -> MetricHistory:
        """Add an accepted sample to the open minute, closing the minute and
        hour it leaves (times increase, so buckets only move forward).  The
        hot path of every fold: one replace of the head, one of the state."""
        m, at = e.metrics, e.sampled_at
        counters = (m.request_count, m.error_count)
        clock_minute = self._span
        if clock_minute is not None and clock_minute[0] <= at < clock_minute[1]:
            minute_start = clock_minute[0]  # a sample is usually of the clock's minute
        else:
            minute_start = floor_to(at, 60)
        minute, hour, previous = head.minute, head.hour, head.hour_counters
        hours, hours_from = head.hours, head.hours_from
        changes: dict[str, Any] = {"samples": samples}
        if minute is None or minute.start != minute_start:
            hour_start = floor_to(at, 3600)
            if minute is not None:
                done = rollup.close(minute)
                self._keep(changes, state, "rollups_1m", head, rollup.bucket(done), cuts)
                hour, minute = rollup.merge(hour, done), None
                if hour.start != hour_start:
                    self._keep(changes, state, "rollups_1h", head, rollup.bucket(hour), cuts)
                    hour, previous = None, None
            if head.last_sampled_at is None or hour_start > floor_to(head.last_sampled_at, 3600):
                hours, hours_from = _indexed(
                    hours, hours_from, hour_start, version, cuts["samples"]
                )
        requests, errors = _delta(previous, counters)
        values, custom = rollup.values_of(m), rollup.numeric_custom(m.custom_metrics)
        head = replace(
            head,
            samples=head.samples + 1,
            last_version=version,
            hours=hours,
            hours_from=hours_from,
            last_sampled_at=at,
            counters=counters,
            hour_counters=counters,
            minute=rollup.add(minute, minute_start, values, custom, requests, errors),
            hour=hour,
        )
        changes["series"] = {**state.series, head.instance_id: head}
        return replace(state, **changes)

    @staticmethod
    def _keep(
        changes: dict[str, Any],
        state: MetricHistory,
        table: str,
        head: SeriesHead,
        bucket: RollupBucket,
        cuts: dict[str, datetime],
    ) -> None:
        """Add a closed bucket to ``changes`` unless it has already expired."""
        if bucket.start >= cuts[table]:
            key = keys.join(head.instance_id, keys.ts(bucket.start))
            changes[table] = {**getattr(state, table), key: bucket}

    def _rolled_up(
        self, state: MetricHistory, event: RecordedEvent, e: MetricsRolledUp, head: SeriesHead
    ) -> MetricHistory:
        table = TABLE_BY_RESOLUTION.get(e.resolution_s)
        if table is None:
            raise ValueError(f"resolution_s {e.resolution_s} is neither 60 nor 3600")
        open_start = head.open_start(table)
        cuts = self.cuts(state.meta)
        assert cuts is not None
        rows = dict(getattr(state, table))
        for b in e.buckets:
            if open_start is not None and b.start >= open_start:
                detail = (
                    f"bucket {b.start} of {table} is not older than the open one ({open_start})"
                )
                state = flag(state, event, anomalies.ROLLUP_OVERLAPS_OPEN, detail)
            elif b.start >= cuts[table]:
                rows[keys.join(head.instance_id, keys.ts(b.start))] = b
        until = head.rolled_until
        if e.until is not None and (until is None or e.until > until):
            until = e.until
        head = replace(
            head, rolled_through=max(head.rolled_through, e.through_version), rolled_until=until
        )
        return _put(replace(state, **{table: rows}), head)


def _indexed(
    hours: tuple[tuple[datetime, int], ...],
    hours_from: datetime | None,
    hour: datetime,
    version: int,
    raw_cut: datetime,
) -> tuple[tuple[tuple[datetime, int], ...], datetime | None]:
    """``hours`` with a new hour's first sample, less the hours retention can
    no longer cut at (an hour before the raw window's)."""
    hours = (*hours, (hour, version))
    horizon = floor_to(raw_cut, 3600) - timedelta(hours=1)
    if hours[0][0] < horizon:
        hours = tuple(h for h in hours if h[0] >= horizon)
        hours_from = horizon
    return hours, hours_from


def _delta(previous: tuple[int, int] | None, current: tuple[int, int]) -> tuple[int, int]:
    """Requests and errors since ``previous``; a counter that went down restarted."""
    if previous is None:
        return 0, 0
    (p_req, p_err), (c_req, c_err) = previous, current
    return (c_req - p_req if c_req >= p_req else c_req), (
        c_err - p_err if c_err >= p_err else c_err
    )


def _put(state: MetricHistory, head: SeriesHead) -> MetricHistory:
    return replace(state, series={**state.series, head.instance_id: head})


def _younger(rows: dict[str, Any], cut: datetime) -> dict[str, Any]:
    """The rows of a history table whose time (the key's second part) is >= cut."""
    if not rows:
        return rows
    bound = keys.ts(cut)
    kept = {k: v for k, v in rows.items() if k.split(keys.SEP, 2)[1] >= bound}
    return rows if len(kept) == len(rows) else kept
