"""``metrics``: an instance's samples over time, raw or as 1-minute and
1-hour means, with request and error counts from the counters' growth (a
counter that went down restarted), and rollups where retention removed the
raw samples."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest

from adapters.memory import MemoryEventStore, MemoryReadModelStore
from adapters.replay.demo import DemoResult
from adapters.replay.errors import InvalidInput
from adapters.replay.metrics import Sample, series
from projections import RetentionPolicy
from projections.deciders.retention import retain
from tests.adapters.replay.logs import DEMO_HUB, Clock, retain_an_hour, sampled_log
from tests.eventstore.contract.factories import T0
from tests.projections.script import HUB, Script

pytestmark = pytest.mark.anyio

Row = tuple[float, int, float, float, float, float]


def rows(samples: list[Sample]) -> list[Row]:
    """(seconds after T0, samples, requests, errors, error %, cpu %) of each row."""
    return [
        (
            (s.at - T0).total_seconds(),
            s.count,
            s.values["requests"],
            s.values["errors"],
            s.values["error_rate"],
            s.values["cpu_percent"],
        )
        for s in samples
    ]


@pytest.fixture
async def sampled(store: MemoryEventStore, script: Script, clock: Clock) -> MemoryEventStore:
    """Five samples of a, 30 s apart from T0, whose counters restart at the
    fourth; and one sample of b beside them."""
    counters = [(100, 0), (150, 5), (250, 15), (40, 2), (90, 2)]
    for i, (requests, errors) in enumerate(counters):
        at = clock.at(30 * i)
        await script.sample("a", at, requests, errors, cpu_percent=10.0 * (i + 1))
    await script.sample("b", clock.now, 7, 7, cpu_percent=99.0)
    return store


async def test_raw_samples_count_requests_and_errors_since_the_previous_one(
    sampled: MemoryEventStore,
) -> None:
    assert rows(await series(sampled, HUB, "a")) == [
        (0, 1, 0, 0, 0.0, 10.0),  # nothing to count from
        (30, 1, 50, 5, 10.0, 20.0),
        (60, 1, 100, 10, 10.0, 30.0),
        (90, 1, 40, 2, 5.0, 40.0),  # the counters restarted: counted from 0
        (120, 1, 50, 0, 0.0, 50.0),
    ]


async def test_minute_means_sum_the_counts_of_their_samples(sampled: MemoryEventStore) -> None:
    assert rows(await series(sampled, HUB, "a", resolution="1m")) == [
        (0, 2, 50, 5, 10.0, 15.0),
        (60, 2, 140, 12, 12 / 140 * 100, 35.0),
        (120, 1, 50, 0, 0.0, 50.0),
    ]


async def test_an_hours_mean_holds_every_sample_of_the_hour(sampled: MemoryEventStore) -> None:
    assert rows(await series(sampled, HUB, "a", resolution="1h")) == [
        (0, 5, 240, 17, 17 / 240 * 100, 30.0)
    ]


async def test_since_and_until_keep_the_rows_between_them_inclusive(
    sampled: MemoryEventStore,
) -> None:
    since, until = T0 + timedelta(seconds=30), T0 + timedelta(seconds=60)

    raw = await series(sampled, HUB, "a", since=since, until=until)
    minutes = await series(sampled, HUB, "a", since=since, resolution="1m")

    assert [r[0] for r in rows(raw)] == [30, 60]
    assert [r[0] for r in rows(minutes)] == [60, 120]  # by the bucket's start


async def test_every_column_is_in_a_row(sampled: MemoryEventStore) -> None:
    [first, *_] = await series(sampled, HUB, "a")

    assert first.as_json(HUB, "a") == {
        "hub_id": HUB,
        "instance": "a",
        "at": "2026-11-01T12:00:00Z",
        "samples": 1,
        "avg_response_time_ms": 0.0,
        "p95_response_time_ms": 0.0,
        "error_rate": 0.0,
        "cpu_percent": 10.0,
        "memory_percent": 0.0,
        "active_connections": 0.0,
        "requests": 0.0,
        "errors": 0.0,
    }


async def test_an_instance_without_samples_has_no_rows(sampled: MemoryEventStore) -> None:
    assert await series(sampled, HUB, "nobody") == []


async def test_an_unknown_resolution_is_refused(sampled: MemoryEventStore) -> None:
    with pytest.raises(InvalidInput) as raised:
        await series(sampled, HUB, "a", resolution="5m")

    assert str(raised.value) == "unknown resolution '5m'; use raw, 1m or 1h"


async def test_after_retention_the_removed_hours_come_from_their_rollups(
    retained: MemoryEventStore,
) -> None:
    raw = await series(retained, HUB, "ollama-1")
    minutes = await series(retained, HUB, "ollama-1", resolution="1m")
    hours = await series(retained, HUB, "ollama-1", resolution="1h")

    assert [r[0] / 600 for r in rows(raw)] == [12, 13, 14, 15, 16, 17]  # 14:00 on
    assert [r[0] / 600 for r in rows(minutes)] == list(range(18))
    assert [(r[0] / 3600, r[1], r[5]) for r in rows(hours)] == [
        (0, 6, 2.5),  # rollups: cpu 0..5
        (1, 6, 8.5),  # rollups: cpu 6..11
        (2, 6, 14.5),  # raw: cpu 12..17
    ]


@pytest.fixture
async def hourly_before_retention(store: MemoryEventStore, clock: Clock) -> list[Row]:
    """:func:`sampled_log`'s hourly rows; then retention runs on it."""
    await sampled_log(store, clock)
    before = rows(await series(store, HUB, "ollama-1", resolution="1h"))
    # requests +100 a sample, counted within the hour as rollups count them:
    # an hour's first sample counts none
    assert [(r[0], r[2]) for r in before] == [(0, 500), (3600, 500), (7200, 500)]
    await retain_an_hour(store)
    return before


async def test_retention_changes_no_hourly_row(
    store: MemoryEventStore, hourly_before_retention: list[Row]
) -> None:
    after = rows(await series(store, HUB, "ollama-1", resolution="1h"))

    assert after == hourly_before_retention


@pytest.fixture
async def restarted(store: MemoryEventStore, clock: Clock) -> MemoryEventStore:
    """a sampled every 10 minutes for three hours from T0 (errors a tenth of
    its requests): its counters restart at 13:20, and it registers anew at
    14:30, its counters restarting again."""
    script = Script(store)
    await script.register("a")
    requests = [
        0,
        100,
        200,
        300,
        400,
        500,
        600,
        700,
        30,
        130,
        230,
        330,
        430,
        530,
        630,
        20,
        120,
        220,
    ]
    for i, count in enumerate(requests):
        at = clock.at(600 * i)
        if i == 15:
            await script.deregister("a")
            await script.register("a")
        await script.sample("a", at, requests=count, errors=count // 10)
    clock.at(5 * 3600)
    return store


async def test_retention_changes_no_hourly_row_of_counters_that_restart(
    restarted: MemoryEventStore,
) -> None:
    before = rows(await series(restarted, HUB, "a", resolution="1h"))
    report = await retain(
        restarted, MemoryReadModelStore(), HUB, policy=RetentionPolicy(raw_s=3600)
    )
    after = rows(await series(restarted, HUB, "a", resolution="1h"))

    assert report.samples_removed == 12  # 12:00 and 13:00
    assert after == before
    # 13:00: 0, 100, 30 (restarted: counts from 0), 100, 100, 100;
    # 14:00: 0, 100, 100, 0 (registered anew: a new series), 100, 100
    assert [(r[0], r[2], r[3]) for r in before] == [(0, 500, 50), (3600, 430, 43), (7200, 400, 40)]


@pytest.fixture
async def late(store: MemoryEventStore, clock: Clock) -> MemoryEventStore:
    """a sampled every 10 minutes for three hours from T0, requests +100 a
    sample; after the sample of 13:20, one of 13:15 arrives late."""
    script = Script(store)
    await script.register("a")
    for i in range(18):
        at = clock.at(600 * i)
        await script.sample("a", at, requests=100 * i, cpu_percent=float(i))
        if i == 8:
            await script.sample("a", at - timedelta(minutes=5), requests=750, cpu_percent=99.0)
    clock.at(5 * 3600)
    return store


async def test_a_late_sample_is_shown_but_left_out_of_the_hours_as_rollups_leave_it(
    late: MemoryEventStore,
) -> None:
    before = rows(await series(late, HUB, "a", resolution="1h"))
    raw = rows(await series(late, HUB, "a"))
    await retain(late, MemoryReadModelStore(), HUB, policy=RetentionPolicy(raw_s=3600))
    after = rows(await series(late, HUB, "a", resolution="1h"))

    assert after == before
    assert [(r[0], r[1], r[2], r[5]) for r in before] == [
        (0, 6, 500, 2.5),
        (3600, 6, 500, 8.5),  # not the late sample's cpu 99
        (7200, 6, 500, 14.5),
    ]
    assert [(r[0], r[2]) for r in raw[8:11]] == [(4800, 100), (4500, 0), (5400, 100)]


async def test_the_demo_samples_every_30_seconds(store: MemoryEventStore, demo: DemoResult) -> None:
    raw = await series(store, DEMO_HUB, "ollama-1")
    minutes = await series(store, DEMO_HUB, "ollama-1", resolution="1m")

    assert len(raw) == 40  # 20 minutes, none lost in the outage
    assert {(b.at - a.at).total_seconds() for a, b in pairwise(raw)} == {30.0}
    assert [m.count for m in minutes] == [2] * 20
