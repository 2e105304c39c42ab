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

from datetime import datetime
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

from . import keys, rollup, rules
from .policy import RetentionPolicy, floor_to
from .readmodel import Meta, Projection, ReadModel, flag

TABLE_BY_RESOLUTION = {60: "rollups_1m", 3600: "rollups_1h"}
EXPIRING = ("samples", "rollups_1m", "rollups_1h")


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
    minute: rollup.Acc | None = None
    hour: rollup.Acc | None = None


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

    def __init__(self, policy: RetentionPolicy | None = None) -> None:
        self.policy = policy or RetentionPolicy()

    def fingerprint(self, hub_id: str) -> str:
        return f"{super().fingerprint(hub_id)}:{self.policy.tag}"

    def cuts(self, meta: Meta) -> dict[str, datetime] | None:
        """The oldest time each expiring table keeps now (None before any event)."""
        return None if meta.clock is None else self.policy.cuts(floor_to(meta.clock, 60))

    def tick(self, state: MetricHistory, meta: Meta) -> MetricHistory:
        assert isinstance(meta, MetricsMeta) and meta.clock is not None
        minute = floor_to(meta.clock, 60)
        if meta.expired_at is not None and minute <= meta.expired_at:
            return replace(state, meta=meta)
        cuts = self.policy.cuts(minute)
        expired = {t: _younger(getattr(state, t), cuts[t]) for t in EXPIRING}
        return replace(state, meta=replace(meta, expired_at=minute), **expired)

    def prunes(self, before: MetricHistory, after: MetricHistory) -> list[tuple[str, str, str]]:
        if after.meta.expired_at is None or after.meta.expired_at == before.meta.expired_at:
            return []
        cuts = self.policy.cuts(after.meta.expired_at)
        ranges = []
        for instance_id in sorted(after.series):
            start, _ = keys.entity_span(instance_id)
            ranges.extend((t, start, start + keys.ts(cuts[t])) for t in EXPIRING)
        return ranges

    def derived(self, state: MetricHistory) -> dict[str, dict[str, Any]]:
        """The open buckets, as rows."""
        cuts = self.cuts(state.meta)
        rows: dict[str, dict[str, Any]] = {"rollups_1m": {}, "rollups_1h": {}}
        if cuts is None:
            return rows
        for head in state.series.values():
            for table, acc in (("rollups_1m", head.minute), ("rollups_1h", head.hour)):
                if acc is not None and acc.start >= cuts[table]:
                    rows[table][keys.join(head.instance_id, keys.ts(acc.start))] = rollup.bucket(
                        acc
                    )
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
                rules.UNREGISTERED,
                f"metrics for unregistered instance {head.instance_id!r}",
            )
        if m.error_count > m.request_count:
            detail = f"error_count {m.error_count} > request_count {m.request_count}"
            state = flag(state, event, rules.ERRORS_EXCEED_REQUESTS, detail)
        if head.counters is not None and (
            m.request_count < head.counters[0] or m.error_count < head.counters[1]
        ):
            detail = (
                f"({m.request_count}, {m.error_count}) after {head.counters} (requests, errors)"
            )
            state = flag(state, event, rules.COUNTER_DECREASED, detail)
        cuts = self.cuts(state.meta)
        assert cuts is not None
        if e.sampled_at >= cuts["samples"]:
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
            state = replace(state, samples={**state.samples, key: row})
        head = replace(head, samples=head.samples + 1, last_version=event.version)
        if head.last_sampled_at is not None and e.sampled_at <= head.last_sampled_at:
            detail = (
                f"sampled at {e.sampled_at}, not after {head.last_sampled_at}: left out of rollups"
            )
            return _put(flag(state, event, rules.SAMPLE_TIME_NOT_INCREASING, detail), head)
        return self._rolled(state, head, e, cuts)

    def _rolled(
        self, state: MetricHistory, head: SeriesHead, e: MetricsSampled, cuts: dict[str, datetime]
    ) -> MetricHistory:
        """Add an accepted sample to the open buckets, closing those it leaves."""
        m, at = e.metrics, e.sampled_at
        counters = (m.request_count, m.error_count)
        minute_start, hour_start = floor_to(at, 60), floor_to(at, 3600)
        closed: dict[str, tuple[rollup.Acc, str]] = {}
        minute, hour, previous = head.minute, head.hour, head.hour_counters
        if minute is not None and minute.start != minute_start:
            closed["rollups_1m"], minute = (minute, "rollups_1m"), None
        if hour is not None and hour.start != hour_start:
            closed["rollups_1h"], hour, previous = (hour, "rollups_1h"), None, None
        requests, errors = _delta(previous, counters)
        values, custom = rollup.values_of(m), rollup.numeric_custom(m.custom_metrics)
        head = replace(
            head,
            last_sampled_at=at,
            counters=counters,
            hour_counters=counters,
            minute=rollup.add(minute, minute_start, values, custom, requests, errors),
            hour=rollup.add(hour, hour_start, values, custom, requests, errors),
        )
        for acc, table in closed.values():
            if acc.start >= cuts[table]:
                key = keys.join(head.instance_id, keys.ts(acc.start))
                state = replace(
                    state, **{table: {**getattr(state, table), key: rollup.bucket(acc)}}
                )
        return _put(state, head)

    def _rolled_up(
        self, state: MetricHistory, event: RecordedEvent, e: MetricsRolledUp, head: SeriesHead
    ) -> MetricHistory:
        table = TABLE_BY_RESOLUTION.get(e.resolution_s)
        if table is None:
            raise ValueError(f"resolution_s {e.resolution_s} is neither 60 nor 3600")
        open_acc = head.minute if table == "rollups_1m" else head.hour
        cuts = self.cuts(state.meta)
        assert cuts is not None
        rows = dict(getattr(state, table))
        for b in e.buckets:
            if open_acc is not None and b.start >= open_acc.start:
                detail = (
                    f"bucket {b.start} of {table} is not older than the open one ({open_acc.start})"
                )
                state = flag(state, event, rules.ROLLUP_OVERLAPS_OPEN, detail)
            elif b.start >= cuts[table]:
                rows[keys.join(head.instance_id, keys.ts(b.start))] = b
        return _put(replace(state, **{table: rows}), head)


def _delta(previous: tuple[int, int] | None, current: tuple[int, int]) -> tuple[int, int]:
    """Requests and errors since ``previous``; a counter that went down restarted."""
    if previous is None:
        return 0, 0
    return tuple(c - p if c >= p else c for p, c in zip(previous, current, strict=True))  # type: ignore[return-value]


def _put(state: MetricHistory, head: SeriesHead) -> MetricHistory:
    return replace(state, series={**state.series, head.instance_id: head})


def _younger(rows: dict[str, Any], cut: datetime) -> dict[str, Any]:
    """The rows of a history table whose time (the key's second part) is >= cut."""
    if not rows:
        return rows
    bound = keys.ts(cut)
    kept = {k: v for k, v in rows.items() if k.split(keys.SEP, 2)[1] >= bound}
    return rows if len(kept) == len(rows) else kept
