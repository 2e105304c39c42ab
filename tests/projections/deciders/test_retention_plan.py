"""Retention, exactly: where each series is cut, what the report and the
appended MetricsRolledUp events say, and what a second run carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from eventstore import EventStore, Metrics, MetricsRolledUp, MetricsSampled
from projections import MetricsProjection, ReadModels, ReadModelStore, RetentionPolicy
from projections.deciders.retention import RetentionReport, SeriesRetention, _plan, retain
from projections.metrics import SeriesHead
from projections.policy import floor_to
from tests.backends import READMODEL_BACKENDS, backend_fixture
from tests.projections.script import HUB, Script

# Retention uses only the async API of stores: one async library is enough.
ASYNCIO_BACKENDS = [b for b in READMODEL_BACKENDS if b.anyio == "asyncio"]

HOUR = timedelta(hours=1)
FOUR_HOURS_RAW = RetentionPolicy(raw_s=4 * 3600)


backend = backend_fixture(ASYNCIO_BACKENDS)


# _plan: the cut of one series, from its hour index alone

H0 = datetime(2026, 11, 1, 9, tzinfo=UTC)
H1, H2 = H0 + HOUR, H0 + 2 * HOUR


def head(
    *hours: tuple[datetime, int], last: datetime | None, since: datetime | None = None
) -> SeriesHead:
    return SeriesHead(instance_id="ollama-00", last_sampled_at=last, hours=hours, hours_from=since)


def test_a_series_without_samples_has_no_cut() -> None:
    assert _plan(head(last=None), H1) is None


def test_the_cut_keeps_the_samples_from_the_cut_hour_on() -> None:
    series = head((H0, 1), (H1, 5), (H2, 9), last=H2 + timedelta(minutes=10))
    assert _plan(series, H1) == (H1, 4)


def test_the_cut_never_passes_the_hour_of_the_newest_sample() -> None:
    series = head((H0, 1), (H1, 5), (H2, 9), last=H2 + timedelta(minutes=50))
    assert _plan(series, H2 + 5 * HOUR) == (H2, 8)


def test_a_single_sample_before_the_cut_is_cut() -> None:
    assert _plan(head((H0, 1), (H1, 2), last=H1), H1) == (H1, 1)


def test_a_series_that_starts_at_or_after_the_cut_has_no_cut() -> None:
    assert _plan(head((H1, 1), (H2, 4), last=H2), H0) is None


def test_a_series_whose_hours_are_no_longer_indexed_has_no_cut() -> None:
    # samples that came long after their time: no hour of them is indexed
    assert _plan(head(last=H0, since=H2), H2 + 5 * HOUR) is None


# retain, on a real log


def sample(k: int, at: datetime) -> MetricsSampled:
    metrics = Metrics(
        cpu_percent=float(k % 100),
        request_count=10 * k,
        avg_response_time_ms=50.0 + k,
        last_updated=at,
    )
    return MetricsSampled(metrics=metrics, sampled_at=at)


async def series(store: EventStore, iid: str, first: datetime, count: int) -> None:
    """A registered instance's samples every 10 minutes from ``first`` (versions 1…count)."""
    await Script(store).register(iid)
    times = [first + timedelta(minutes=10 * k) for k in range(count)]
    await store.append(HUB, f"metrics/{iid}", [sample(k, t) for k, t in enumerate(times)])


async def rolled_up(store: EventStore, stream: str) -> list[tuple]:
    """(version, resolution_s, through_version, until, buckets) of the stream's rollup events."""
    return [
        (
            e.version,
            e.event.resolution_s,
            e.event.through_version,
            e.event.until,
            len(e.event.buckets),
        )
        async for e in store.read_stream(HUB, stream)
        if isinstance(e.event, MetricsRolledUp)
    ]


async def the_hour(store: EventStore) -> datetime:
    return floor_to(await store.now(), 3600)


@pytest.mark.anyio
async def test_a_run_reports_each_series_it_cut_and_the_policy_it_used(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    hour = await the_hour(store)
    await series(store, "ollama-00", hour - HOUR, 6)  # all inside the raw window
    await series(store, "ollama-01", hour - 8 * HOUR, 48)  # 8 hours: half of them to cut
    now = hour + timedelta(minutes=30)  # the raw window starts at hour - 3h30: cut at hour - 4h

    report = await retain(store, storage, HUB, policy=FOUR_HOURS_RAW, now=now)

    cut = SeriesRetention(
        stream="metrics/ollama-01",
        boundary=hour - 4 * HOUR,
        through_version=24,
        samples_removed=24,
        minute_buckets=24,
        hour_buckets=4,
        events_appended=2,
    )
    assert report == RetentionReport(
        hub_id=HUB, now=now, dry_run=False, policy=FOUR_HOURS_RAW, series=(cut,)
    )
    assert await rolled_up(store, "metrics/ollama-01") == [
        (49, 60, 24, hour - 4 * HOUR, 24),
        (50, 3600, 24, hour - 4 * HOUR, 4),
    ]
    first = [e async for e in store.read_stream(HUB, "metrics/ollama-01", limit=1)]
    assert [(e.version, e.type) for e in first] == [(25, "MetricsSampled")]
    assert len([e async for e in store.read_stream(HUB, "metrics/ollama-00")]) == 6


@pytest.mark.anyio
async def test_after_a_run_the_read_model_knows_what_was_rolled_up(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    hour = await the_hour(store)
    await series(store, "ollama-01", hour - 8 * HOUR, 48)

    await retain(store, storage, HUB, policy=FOUR_HOURS_RAW, now=hour + timedelta(minutes=30))

    metrics = MetricsProjection(FOUR_HOURS_RAW)
    [(_, meta)] = await reader.rows(metrics, HUB, "meta")
    assert meta.position == await store.head(HUB)  # caught up with the appended events
    heads = {h.instance_id: h for _, h in await reader.rows(metrics, HUB, "series")}
    assert (heads["ollama-01"].rolled_through, heads["ollama-01"].rolled_until) == (
        24,
        hour - 4 * HOUR,
    )


@pytest.mark.anyio
async def test_a_dry_run_says_so_and_what_a_real_run_will_do(
    store: EventStore, storage: ReadModelStore
) -> None:
    hour = await the_hour(store)
    await series(store, "ollama-01", hour - 8 * HOUR, 48)
    now = hour + timedelta(minutes=30)

    dry = await retain(store, storage, HUB, policy=FOUR_HOURS_RAW, now=now, dry_run=True)

    assert (dry.hub_id, dry.now, dry.dry_run, dry.policy) == (HUB, now, True, FOUR_HOURS_RAW)
    assert [(s.stream, s.through_version, s.samples_removed) for s in dry.series] == [
        ("metrics/ollama-01", 24, 24)
    ]
    assert await rolled_up(store, "metrics/ollama-01") == []
    real = await retain(store, storage, HUB, policy=FOUR_HOURS_RAW, now=now)
    assert real.dry_run is False and real.series == dry.series


@pytest.mark.anyio
async def test_a_later_run_carries_only_the_buckets_since_the_last_until(
    store: EventStore, storage: ReadModelStore
) -> None:
    hour = await the_hour(store)
    await series(store, "ollama-01", hour - 8 * HOUR, 48)
    await retain(store, storage, HUB, policy=FOUR_HOURS_RAW, now=hour + timedelta(minutes=30))

    later = await retain(
        store, storage, HUB, policy=FOUR_HOURS_RAW, now=hour + timedelta(hours=2, minutes=30)
    )

    # from hour - 4h (the first run's until) to hour - 2h: 12 minutes, 2 hours
    assert later.series == (
        SeriesRetention(
            stream="metrics/ollama-01",
            boundary=hour - 2 * HOUR,
            through_version=36,
            samples_removed=12,
            minute_buckets=12,
            hour_buckets=2,
            events_appended=2,
        ),
    )
    assert (await rolled_up(store, "metrics/ollama-01"))[2:] == [
        (51, 60, 36, hour - 2 * HOUR, 12),
        (52, 3600, 36, hour - 2 * HOUR, 2),
    ]


@pytest.mark.anyio
async def test_when_every_bucket_to_carry_has_expired_one_empty_event_marks_the_cut(
    store: EventStore, storage: ReadModelStore
) -> None:
    # minute rows last 1 h and hour rows 2 h: none is left from before the 3 h raw window
    short = RetentionPolicy(raw_s=3 * 3600, minute_s=3600, hour_s=2 * 3600)
    hour = await the_hour(store)
    await series(store, "ollama-00", hour - 6 * HOUR, 36)

    report = await retain(store, storage, HUB, policy=short, now=hour + timedelta(minutes=30))

    assert report.series == (
        SeriesRetention(
            stream="metrics/ollama-00",
            boundary=hour - 3 * HOUR,
            through_version=18,
            samples_removed=18,
            minute_buckets=0,
            hour_buckets=0,
            events_appended=1,
        ),
    )
    assert await rolled_up(store, "metrics/ollama-00") == [(37, 60, 18, hour - 3 * HOUR, 0)]
