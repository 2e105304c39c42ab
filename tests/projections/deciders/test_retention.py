"""Retention: raw samples leave the log only behind rollups, and no rollup
changes — live, after retention, or rebuilt."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from eventstore import EventStore, Metrics, MetricsSampled
from projections import (
    MetricsProjection,
    ProjectionRunner,
    ReadModels,
    ReadModelStore,
    RetentionPolicy,
    rebuild,
)
from projections.deciders.retention import retain
from projections.policy import floor_to
from tests.backends import READMODEL_BACKENDS, backend_fixture
from tests.deadlines import within
from tests.projections.script import HUB, Script

pytestmark = pytest.mark.anyio

# Retention uses only the async API of stores: one async library is enough,
# and the 3-day test is the slowest of this suite.
ASYNCIO_BACKENDS = [b for b in READMODEL_BACKENDS if b.anyio == "asyncio"]


backend = backend_fixture(ASYNCIO_BACKENDS)


INSTANCES = 20
DAYS = 3
EVERY_S = 30


def sample(i: int, at: datetime) -> MetricsSampled:
    metrics = Metrics(
        cpu_percent=float(i * 7 % 100),
        memory_percent=float(i * 3 % 100),
        request_count=10 * i,
        error_count=i // 10,
        avg_response_time_ms=50.0 + i * 13 % 200,
        p95_response_time_ms=80.0 + i * 17 % 300,
        active_connections=i % 5,
        custom_metrics={"gpu_temp": 40 + i % 30},
        last_updated=at,
    )
    return MetricsSampled(metrics=metrics, sampled_at=at)


async def history(store: EventStore, instances: int, days: float, every_s: int) -> list[datetime]:
    """Every instance registered, healthy and leased, then its samples up to
    now, appended a day's worth per batch."""
    script = Script(store)
    end = floor_to(await store.now(), 60)
    count = int(days * 86_400) // every_s
    times = [end - timedelta(seconds=every_s * k) for k in range(count - 1, -1, -1)]
    per_batch = 86_400 // every_s
    await script.started()
    for n in range(instances):
        iid = f"ollama-{n:02d}"
        await script.healthy(iid)
        await script.grant(iid, "node-a", capacity=4)
        for first in range(0, count, per_batch):
            batch = [sample(i, times[i]) for i in range(first, min(count, first + per_batch))]
            await store.append(HUB, f"metrics/{iid}", batch)
    engine = getattr(store, "engine", None)
    if engine is not None and engine.dialect.name == "postgresql":
        # A fresh table has no statistics yet (autovacuum analyses later); without
        # them PostgreSQL reads the log's pages by a bitmap scan of every row.
        with engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))
            conn.commit()
    return times


async def rollups(reader: ReadModels, projection: MetricsProjection) -> dict[str, list]:
    return {t: await reader.rows(projection, HUB, t) for t in ("rollups_1m", "rollups_1h")}


async def first_left(store: EventStore, stream: str) -> tuple[int, str]:
    [event] = [e async for e in store.read_stream(HUB, stream, limit=1)]
    return event.version, event.type


# At full size on the SQL backends, where transactions, range deletes and
# collations live; memory and Redis (16 s and 25 s more) run the small tests.
SQL = [b for b in ASYNCIO_BACKENDS if b.kind in ("sqlite", "postgresql")]


@pytest.mark.slow
@pytest.mark.parametrize("backend", SQL, ids=[b.id for b in SQL], indirect=True)
async def test_three_days_of_samples_every_30s_from_20_instances(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    times = await history(store, INSTANCES, DAYS, EVERY_S)
    metrics = MetricsProjection()
    runner = ProjectionRunner(store, storage, metrics, HUB, batch_size=1000)
    with within("catching up with three days of samples", seconds=600):
        await runner.catch_up()
    before = await rollups(reader, metrics)
    assert len(before["rollups_1h"]) == INSTANCES * (DAYS * 24 + 1)  # partial first and last hours
    assert len(before["rollups_1m"]) == INSTANCES * (DAYS * 24 * 60 + 1)

    report = await retain(store, storage, HUB)

    boundary = floor_to(report.now - timedelta(days=1), 3600)
    kept = [t for t in times if t >= boundary]
    assert [s.boundary for s in report.series] == [boundary] * INSTANCES
    assert report.samples_removed == INSTANCES * (len(times) - len(kept))
    for n in range(INSTANCES):
        # the stream now starts at the first sample from the boundary on
        assert await first_left(store, f"metrics/ollama-{n:02d}") == (
            len(times) - len(kept) + 1,
            "MetricsSampled",
        )
        assert [e.type async for e in store.read_stream(HUB, f"instance/ollama-{n:02d}")] == [
            "InstanceRegistered",
            "HealthChecked",
            "HealthChanged",
        ]
        assert [e.type async for e in store.read_stream(HUB, f"lock/ollama-{n:02d}")] == [
            "LockGranted"
        ]
    assert await rollups(reader, metrics) == before  # retain caught the read model up
    raw = await reader.rows(metrics, HUB, "samples")
    [(_, meta)] = await reader.rows(metrics, HUB, "meta")
    window = floor_to(meta.clock, 60) - timedelta(days=1)
    assert len(raw) == INSTANCES * len([t for t in times if t >= window])
    assert min(row.sampled_at for _, row in raw) >= window

    await rebuild(store, storage, metrics, HUB, batch_size=1000)

    assert await rollups(reader, metrics) == before
    assert await reader.rows(metrics, HUB, "samples") == raw


async def test_a_dry_run_reports_and_changes_nothing(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    times = await history(store, 2, 2, 600)
    head = await store.head(HUB)

    dry = await retain(store, storage, HUB, dry_run=True)

    boundary = floor_to(dry.now - timedelta(days=1), 3600)
    old = len([t for t in times if t < boundary])
    assert [(s.boundary, s.samples_removed, s.hour_buckets) for s in dry.series] == [
        (boundary, old, len({floor_to(t, 3600) for t in times if t < boundary}))
    ] * 2
    assert await store.head(HUB) == head
    assert len([e async for e in store.read_log(HUB) if e.type == "MetricsSampled"]) == 2 * len(
        times
    )

    done = await retain(store, storage, HUB)
    assert done.series == dry.series
    assert (await retain(store, storage, HUB)).series == ()  # nothing left to do


async def test_a_run_that_stopped_before_deleting_is_finished_by_the_next(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    await history(store, 1, 1.5, 300)
    metrics = MetricsProjection()
    with within("the metrics runner's catch-up"):
        await ProjectionRunner(store, storage, metrics, HUB).catch_up()
    before = await rollups(reader, metrics)
    real_delete = store.delete_metric_samples

    async def crash(*args: object, **kwargs: object) -> int:
        raise ConnectionError("killed between append and delete")

    store.delete_metric_samples = crash  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await retain(store, storage, HUB)
    store.delete_metric_samples = real_delete  # type: ignore[method-assign]
    appended = len([e async for e in store.read_log(HUB) if e.type == "MetricsRolledUp"])

    report = await retain(store, storage, HUB)

    [series] = report.series
    assert series.events_appended == 0 and series.samples_removed > 0
    assert len([e async for e in store.read_log(HUB) if e.type == "MetricsRolledUp"]) == appended
    assert await rollups(reader, metrics) == before
    await rebuild(store, storage, metrics, HUB)
    assert await rollups(reader, metrics) == before


async def test_each_hub_keeps_raw_samples_as_long_as_its_policy_says(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    times = await history(store, 1, 0.5, 300)
    short = RetentionPolicy(raw_s=2 * 3600, minute_s=4 * 3600)
    metrics = MetricsProjection(short)
    with within("the metrics runner's catch-up"):
        await ProjectionRunner(store, storage, metrics, HUB).catch_up()
    [(_, meta)] = await reader.rows(metrics, HUB, "meta")

    report = await retain(store, storage, HUB, policy=short)

    [series] = report.series
    assert series.boundary == floor_to(report.now - timedelta(hours=2), 3600)
    # minute rollups older than 4 hours had expired: they are not carried
    kept_minutes = floor_to(meta.clock, 60) - timedelta(hours=4)
    assert series.minute_buckets == len(
        {floor_to(t, 60) for t in times if kept_minutes <= t < series.boundary}
    )
    samples = await reader.samples(HUB, "ollama-00")
    [(_, meta)] = await reader.rows(metrics, HUB, "meta")
    assert min(s.sampled_at for s in samples) >= floor_to(meta.clock, 60) - timedelta(hours=2)
    minutes = await reader.rollups(HUB, "ollama-00", 60)
    assert min(b.start for b in minutes) >= floor_to(meta.clock, 60) - timedelta(hours=4)
    assert len(await reader.rollups(HUB, "ollama-00", 3600)) == len(
        {floor_to(t, 3600) for t in times}
    )
