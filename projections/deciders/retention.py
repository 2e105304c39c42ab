"""Retention: raw metric samples leave the log once their rollups are in it.

For each metric series of a hub, with the metrics read model caught up:

1. The cut ``B`` is the hour at or before ``now - raw window`` — never past
   the hour of the series' newest sample, which always stays — and ``V`` is
   the version before the first sample at or after ``B`` (the read model
   indexes those by hour, so the log is not read).  Every sample up to
   ``V`` is then before ``B``; a later one before ``B`` is out of order and
   out of every rollup anyway.  Buckets end at hours, so the buckets before
   ``B`` hold exactly the rolled-up samples up to ``V``.
2. Their rows, as the read model has them (bit for bit what the fold made),
   go into ``MetricsRolledUp`` events (``through_version=V``, ``until=B``),
   appended in one atomic batch.
3. Only then the samples up to ``V`` are deleted
   (``store.delete_metric_samples``).  A crash in between leaves the samples
   and events saying the same thing; the next run only deletes.

Lifecycle, lock and rollup events are never removed.  Rollup rows older
than their windows leave the read model, not the log: the fold expires them
by the log's clock, so a rebuild expires the same ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from eventstore import streams
from eventstore.envelope import ANY
from eventstore.events import MetricsRolledUp, RollupBucket
from eventstore.store import EventStore
from projections import codec, keys
from projections.metrics import MetricHistory, MetricsProjection, SeriesHead
from projections.policy import RetentionPolicy, floor_to
from projections.readmodel_store import ReadModelStore
from projections.runner import ProjectionRunner

from .loop import Target, append_retrying

MAX_BUCKETS_PER_EVENT = 360
"""6 hours of minute buckets per event: well under the log's 1 MB event limit."""


class SeriesRetention(msgspec.Struct, frozen=True, kw_only=True):
    """What retention did (or, dry, would do) to one metrics stream."""

    stream: str
    boundary: datetime
    """Samples before this hour are rolled up and removed; later ones stay."""
    through_version: int
    samples_removed: int
    minute_buckets: int
    hour_buckets: int
    events_appended: int


class RetentionReport(msgspec.Struct, frozen=True, kw_only=True):
    hub_id: str
    now: datetime
    dry_run: bool
    policy: RetentionPolicy
    series: tuple[SeriesRetention, ...]

    @property
    def samples_removed(self) -> int:
        return sum(s.samples_removed for s in self.series)


async def retain(
    store: EventStore,
    storage: ReadModelStore,
    hub_id: str,
    *,
    policy: RetentionPolicy | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    max_buckets_per_event: int = MAX_BUCKETS_PER_EVENT,
) -> RetentionReport:
    """Roll up and remove a hub's raw samples older than ``policy.raw_s``.

    Catches the hub's metrics read model (built with ``policy``) up first,
    and again after appending.  ``now`` defaults to the backend's clock.
    With ``dry_run`` nothing is appended or removed; the report says what
    would be (counting the samples costs reading them).

    Raises: ProjectionOutdated (the stored metrics model was built with
    another policy: rebuild it), BackendUnavailable, StoreClosed.
    """
    projection = MetricsProjection(policy)
    runner = ProjectionRunner(store, storage, projection, hub_id)
    await runner.catch_up()
    now = now or await store.now()
    cut = floor_to(now - timedelta(seconds=projection.policy.raw_s), 3600)
    state = runner.state
    assert isinstance(state, MetricHistory)
    done = []
    for head in sorted(state.series.values(), key=lambda h: h.instance_id):
        plan = _plan(head, cut)
        if plan is None:
            continue
        boundary, through = plan
        events = await _rollup_events(
            storage, projection, hub_id, head, boundary, through, max_buckets_per_event
        )
        stream = streams.metrics(head.instance_id)
        if dry_run:
            removed = await _count_samples(store, hub_id, stream, through)
        else:
            if events:
                await append_retrying(store, Target(hub_id, stream), events, ANY)
            removed = await store.delete_metric_samples(hub_id, stream, through_version=through)
        if removed or events:
            done.append(_report(stream, boundary, through, removed, events))
    if not dry_run:
        await runner.catch_up()
    return RetentionReport(
        hub_id=hub_id, now=now, dry_run=dry_run, policy=projection.policy, series=tuple(done)
    )


def _plan(head: SeriesHead, cut: datetime) -> tuple[datetime, int] | None:
    """``(boundary, through_version)`` for one series, or None."""
    if head.last_sampled_at is None:
        return None
    first = head.first_version_from(min(cut, floor_to(head.last_sampled_at, 3600)))
    if first is None or first[1] <= 1:
        return None
    return first[0], first[1] - 1


async def _rollup_events(
    storage: ReadModelStore,
    projection: MetricsProjection,
    hub_id: str,
    head: SeriesHead,
    boundary: datetime,
    through: int,
    per_event: int,
) -> list[MetricsRolledUp]:
    """The events carrying the buckets before ``boundary`` not yet carried
    (none when an earlier run appended them and stopped before deleting)."""
    if head.rolled_through >= through:
        return []
    low, stop = keys.entity_span(head.instance_id)
    if head.rolled_until is not None:
        low = keys.join(head.instance_id, keys.ts(head.rolled_until))
    stop = keys.join(head.instance_id, keys.ts(boundary))
    events = []
    for resolution, table in ((60, "rollups_1m"), (3600, "rollups_1h")):
        rows = await storage.scan(projection.name, hub_id, table, start=low, stop=stop)
        buckets = [codec.decode(data, RollupBucket) for _, data in rows]
        for i in range(0, len(buckets), per_event):
            chunk = tuple(buckets[i : i + per_event])
            events.append(
                MetricsRolledUp(
                    resolution_s=resolution, through_version=through, buckets=chunk, until=boundary
                )
            )
    # Nothing to carry (every bucket expired): still say what leaves, and until when.
    return events or [
        MetricsRolledUp(resolution_s=60, through_version=through, buckets=(), until=boundary)
    ]


async def _count_samples(store: EventStore, hub_id: str, stream: str, through: int) -> int:
    return len(
        [
            e
            async for e in store.read_stream(hub_id, stream, before_version=through + 1)
            if e.type == "MetricsSampled"
        ]
    )


def _report(
    stream: str, boundary: datetime, through: int, removed: int, events: list[MetricsRolledUp]
) -> SeriesRetention:
    return SeriesRetention(
        stream=stream,
        boundary=boundary,
        through_version=through,
        samples_removed=removed,
        minute_buckets=sum(len(e.buckets) for e in events if e.resolution_s == 60),
        hour_buckets=sum(len(e.buckets) for e in events if e.resolution_s == 3600),
        events_appended=len(events),
    )
