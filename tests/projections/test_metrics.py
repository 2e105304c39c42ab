"""The metric history: raw samples in the window, 1-minute and 1-hour rollups."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from eventstore import EventStore, MetricsRolledUp, RollupBucket
from projections import MetricsProjection, ReadModels, ReadModelStore, RetentionPolicy
from projections.policy import floor_to
from tests.projections.script import HUB, Script, folded_rows, run, stored_rows

pytestmark = pytest.mark.anyio

METRICS = MetricsProjection()


async def hours_ago(store: EventStore, hours: int) -> datetime:
    return floor_to(await store.now(), 3600) - timedelta(hours=hours)


async def test_rollups_aggregate_each_bucket(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    start = await hours_ago(store, 3)
    await script.register("a")
    for i in range(240):  # two hours at 30 s; one request in ten fails
        at = start + timedelta(seconds=30 * i)
        await script.sample(
            "a",
            at,
            requests=10 * i,
            errors=i,
            cpu_percent=float(i % 7),
            avg_response_time_ms=float(i),
            custom_metrics={"gpu_temp": 50 + i % 3, "label": "x", "flag": True},
        )
    await run(store, storage, METRICS, batch_size=100)

    minutes = await reader.rollups(HUB, "a", 60)
    assert len(minutes) == 120 and all(b.count == 2 for b in minutes)
    first = minutes[0]
    assert first.start == start
    assert first.stats["cpu_percent"] == (0.0, 1.0, 0.5)
    assert first.stats["custom.gpu_temp"] == (50.0, 51.0, 50.5)
    assert "custom.label" not in first.stats and "custom.flag" not in first.stats
    assert (first.request_delta, first.error_delta, first.error_rate) == (10, 1, 10.0)
    hours = await reader.rollups(HUB, "a", 3600)
    assert [(b.start, b.count) for b in hours] == [(start, 120), (start + timedelta(hours=1), 120)]
    # deltas never cross an hour: the second hour's first sample starts from 0
    assert [(b.request_delta, b.error_delta) for b in hours] == [(1190, 119), (1190, 119)]
    assert hours[1].p95_response_time_ms == float(120 + math.ceil(0.95 * 120) - 1)
    assert hours[1].stats["avg_response_time_ms"] == (120.0, 239.0, sum(range(120, 240)) / 120)
    samples = await reader.samples(
        HUB, "a", start + timedelta(minutes=10), start + timedelta(minutes=11)
    )
    assert [s.sampled_at for s in samples] == [
        start + timedelta(minutes=10),
        start + timedelta(minutes=10, seconds=30),
    ]
    assert await reader.anomalies(METRICS, HUB) == []
    assert await stored_rows(storage, METRICS) == await folded_rows(store, METRICS)


async def test_counters_may_only_fall_with_a_new_incarnation(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    at = await hours_ago(store, 1)
    await script.register("a")
    await script.sample("a", at, requests=100, errors=5)
    await script.sample("a", at + timedelta(seconds=30), requests=90, errors=5)  # went backwards
    await script.sample(
        "a", at + timedelta(seconds=60), requests=95, errors=99
    )  # more errors than requests
    await script.deregister("a")
    await script.register("a")
    await script.sample(
        "a", at + timedelta(seconds=90), requests=1, errors=0
    )  # a new incarnation starts low
    await script.sample("a", at + timedelta(seconds=90), requests=2, errors=0)  # time did not move
    await script.sample("ghost", at)
    await run(store, storage, METRICS)

    assert [a.kind for a in await reader.anomalies(METRICS, HUB)] == [
        "counter_decreased",
        "errors_exceed_requests",
        "sample_time_not_increasing",
        "event_for_unregistered_instance",
    ]
    [minute] = await reader.rollups(HUB, "a", 60, at, at + timedelta(seconds=60))
    assert minute.count == 2  # the sample whose time did not increase is left out
    assert len(await reader.samples(HUB, "a")) == 5  # but kept as a raw sample
    assert await stored_rows(storage, METRICS) == await folded_rows(store, METRICS)


async def test_samples_and_rollups_expire_by_the_logs_clock(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    policy = RetentionPolicy(raw_s=3600, minute_s=3 * 3600, hour_s=6 * 3600)
    projection = MetricsProjection(policy)
    start = floor_to(await store.now(), 60) - timedelta(hours=10)
    await script.register("a")
    for i in range(10 * 6 + 1):  # every 10 minutes for 10 hours, up to this minute
        await script.sample("a", start + timedelta(minutes=10 * i), requests=i)
    await run(store, storage, projection, batch_size=7)

    [meta] = (await stored_rows(storage, projection))["meta"].values()
    minute = floor_to(meta.clock, 60)
    samples = await reader.samples(HUB, "a")
    assert samples and min(s.sampled_at for s in samples) >= minute - timedelta(hours=1)
    assert len(samples) == len(
        [i for i in range(61) if start + timedelta(minutes=10 * i) >= minute - timedelta(hours=1)]
    )
    minutes = await reader.rollups(HUB, "a", 60)
    assert minutes and min(b.start for b in minutes) >= minute - timedelta(hours=3)
    hours = await reader.rollups(HUB, "a", 3600)
    assert [b.start for b in hours] == [
        h
        for h in (floor_to(start, 3600) + timedelta(hours=k) for k in range(11))
        if h >= minute - timedelta(hours=6)
    ]
    assert await stored_rows(storage, projection) == await folded_rows(store, projection)


async def test_a_rolled_up_event_sets_the_buckets_it_carries(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    at = await hours_ago(store, 2)
    await script.register("a")
    await script.sample("a", at + timedelta(hours=1), requests=5)
    bucket = RollupBucket(
        start=at, count=3, stats={"cpu_percent": (1.0, 3.0, 2.0)}, p95_response_time_ms=9.0
    )
    late = RollupBucket(start=at + timedelta(hours=1), count=1, stats={}, p95_response_time_ms=0.0)
    await script.append(
        "metrics/a", MetricsRolledUp(resolution_s=3600, through_version=0, buckets=(bucket, late))
    )
    await run(store, storage, METRICS)

    assert await reader.rollups(HUB, "a", 3600, at, at + timedelta(hours=1)) == [bucket]
    [open_hour] = await reader.rollups(HUB, "a", 3600, at + timedelta(hours=1))
    assert open_hour.count == 1  # the open bucket is the fold's own
    assert [a.kind for a in await reader.anomalies(METRICS, HUB)] == ["rollup_overlaps_open_bucket"]


async def test_hour_buckets_of_a_custom_metric_hold_its_min_max_mean(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    start = await hours_ago(store, 3)
    await script.register("a")
    # A custom metric is averaged over the samples that carry it, across the
    # minutes of the hour; samples without it neither count nor pull it to 0.
    custom_by_offset = [
        (timedelta(seconds=0), {"gpu_temp": 40}),
        (timedelta(seconds=30), {"gpu_temp": 70, "vram_gb": 1.5}),
        (timedelta(minutes=1), {}),
        (timedelta(minutes=1, seconds=30), {"gpu_temp": 55, "model": "llama3"}),
        (timedelta(minutes=20), {"gpu_temp": 45, "vram_gb": 2.5}),
        (timedelta(hours=1), {"gpu_temp": 60}),  # closes the first hour, opens the second
        (timedelta(hours=1, minutes=10), {"gpu_temp": 80.5}),
    ]
    for offset, custom in custom_by_offset:
        await script.sample("a", start + offset, custom_metrics=custom)
    await run(store, storage, METRICS)

    closed, open_hour = await reader.rollups(HUB, "a", 3600)
    assert (closed.start, closed.count) == (start, 5)
    assert closed.stats["custom.gpu_temp"] == (40.0, 70.0, (40 + 70 + 55 + 45) / 4)
    assert closed.stats["custom.vram_gb"] == (1.5, 2.5, 2.0)
    assert "custom.model" not in closed.stats  # not numeric
    assert (open_hour.start, open_hour.count) == (start + timedelta(hours=1), 2)
    assert open_hour.stats["custom.gpu_temp"] == (60.0, 80.5, (60 + 80.5) / 2)
    assert "custom.vram_gb" not in open_hour.stats  # no sample of that hour carried it
    assert await stored_rows(storage, METRICS) == await folded_rows(store, METRICS)


async def test_a_counter_that_goes_down_restarted_so_its_delta_is_its_new_value(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    start = await hours_ago(store, 2)
    await script.register("a")
    counters = [(100, 10), (110, 12), (5, 1), (8, 3), (20, 1)]  # one sample a minute
    for i, (requests, errors) in enumerate(counters):
        await script.sample("a", start + timedelta(minutes=i), requests=requests, errors=errors)
    await run(store, storage, METRICS)

    minutes = await reader.rollups(HUB, "a", 60)
    # The first sample is the baseline (0); a counter below the previous one
    # counted from 0 again, so what it shows now is what happened since; the
    # two counters restart independently.
    assert [(b.request_delta, b.error_delta) for b in minutes] == [
        (0, 0),
        (10, 2),
        (5, 1),  # both restarted
        (3, 2),
        (12, 1),  # only the errors restarted: 20 - 8 requests, 1 error
    ]
    [hour] = await reader.rollups(HUB, "a", 3600)
    assert (hour.request_delta, hour.error_delta, hour.error_rate) == (30, 6, 20.0)
    # ... and each restart inside one incarnation is still an anomaly
    assert [a.kind for a in await reader.anomalies(METRICS, HUB)] == [
        "counter_decreased",
        "counter_decreased",
    ]
    assert await stored_rows(storage, METRICS) == await folded_rows(store, METRICS)


async def test_the_first_sample_of_a_new_incarnation_is_a_baseline_not_a_restart(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    start = await hours_ago(store, 2)
    await script.register("a")
    await script.sample("a", start, requests=100, errors=10)
    await script.sample("a", start + timedelta(seconds=10), requests=150, errors=11)
    await script.deregister("a")
    await script.register("a")
    await script.sample("a", start + timedelta(seconds=20), requests=7, errors=2)
    await script.sample("a", start + timedelta(seconds=30), requests=9, errors=2)
    await run(store, storage, METRICS)

    # 50 + 0 (the new incarnation's first sample: a baseline, not 7 since a
    # restart) + 2; and a re-registration is no counter_decreased anomaly.
    [minute] = await reader.rollups(HUB, "a", 60)
    assert (minute.request_delta, minute.error_delta) == (52, 1)
    assert await reader.anomalies(METRICS, HUB) == []
