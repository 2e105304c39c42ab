"""position_at (time -> position) and the one deletion the log allows."""

from __future__ import annotations

from datetime import datetime, timedelta

import anyio
import pytest

from eventstore import EventStore, InvalidEventError, MetricsRolledUp
from tests.contract.factories import checks, registered, sampled

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"
M = "metrics/a"


async def test_position_at_finds_the_last_event_recorded_by_then(store: EventStore) -> None:
    before = await store.now() - timedelta(seconds=1)
    await store.append(HUB, A, [registered(), *checks(2)])
    await anyio.sleep(0.02)
    middle = await store.now()
    await anyio.sleep(0.02)
    await store.append(HUB, A, checks(2))

    assert await store.position_at(HUB, before) == 0
    assert await store.position_at(HUB, middle) == 3
    assert await store.position_at(HUB, await store.now()) == 5
    assert await store.position_at("no-such-hub", middle) == 0


async def test_position_at_refuses_a_naive_time(store: EventStore) -> None:
    with pytest.raises(InvalidEventError, match="timezone-aware"):
        await store.position_at(HUB, datetime(2026, 1, 1))


async def test_deleting_samples_keeps_rollups_versions_and_positions(store: EventStore) -> None:
    await store.append(HUB, M, [sampled(i) for i in range(4)])
    rollup = MetricsRolledUp(resolution_s=60, through_version=3, buckets=())
    await store.append(HUB, M, [rollup, sampled(9)])

    removed = await store.delete_metric_samples(HUB, M, through_version=5)

    assert removed == 4  # versions 1-4; the rollup (5) is not a sample, 6 is past the bound
    left = [(e.version, e.position, e.type) async for e in store.read_stream(HUB, M)]
    assert left == [(5, 5, "MetricsRolledUp"), (6, 6, "MetricsSampled")]
    assert [e.position async for e in store.read_log(HUB)] == [5, 6]
    assert await store.stream_version(HUB, M) == 6
    assert await store.head(HUB) == 6
    # versions and positions are never reused
    assert (await store.append(HUB, M, [sampled()])).positions == range(7, 8)
    assert (await store.stream_version(HUB, M)) == 7


async def test_only_metric_streams_lose_events(store: EventStore) -> None:
    await store.append(HUB, A, [registered()])

    with pytest.raises(InvalidEventError, match="only metric samples"):
        await store.delete_metric_samples(HUB, A, through_version=1)

    assert await store.head(HUB) == 1


async def test_deleting_from_a_missing_stream_removes_nothing(store: EventStore) -> None:
    assert await store.delete_metric_samples(HUB, M, through_version=10) == 0
