"""``rebuild_all``: several read models of one hub folded again from
position 0 in one read of the log, called in-process (the CLI's ``rebuild``
calls it in a child process, where the mutation run's test map cannot see
it)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eventstore import EventStore
from projections import (
    MetricsProjection,
    ProjectionOutdated,
    ReadModelStore,
    RetentionPolicy,
    rebuild_all,
    standard_projections,
)
from tests.deadlines import within
from tests.projections.script import HUB, S, Script, folded_rows, run, stored_rows

pytestmark = pytest.mark.anyio


async def a_hub(store: EventStore, samples: int) -> list[int]:
    """A hub's life; the positions of its events."""
    script = Script(store)
    now = await store.now()
    await script.started()
    for name in ("a", "b"):
        await script.healthy(name)
    for i in range(samples):
        await script.sample("a", now - timedelta(minutes=samples - i), requests=i)
    await script.change("b", S.HEALTHY, S.DEGRADED)
    return [event.position async for event in store.read_log(HUB)]


def batch_ends(positions: list[int], batch_size: int) -> list[int]:
    """The last position of each batch of ``batch_size`` events, the short last one included."""
    ends = positions[batch_size - 1 :: batch_size]
    if len(positions) % batch_size:
        ends.append(positions[-1])
    return ends


@pytest.mark.parametrize("batch_size", [1, 4, 500])
async def test_rebuild_all_stores_what_folding_each_model_alone_gives(
    store: EventStore, storage: ReadModelStore, batch_size: int
) -> None:
    positions = await a_hub(store, samples=9)
    projections = standard_projections()
    seen: list[int] = []
    with within("rebuilding every model"):
        reached = await rebuild_all(
            store, storage, projections, HUB, batch_size=batch_size, on_batch=seen.append
        )
    assert reached == positions[-1] == await store.head(HUB)
    assert seen == batch_ends(positions, batch_size)
    for projection in projections:
        assert await stored_rows(storage, projection) == await folded_rows(store, projection)
        checkpoint = await storage.checkpoint(projection.name, HUB)
        assert checkpoint is not None and checkpoint.position == positions[-1]


async def test_a_batch_size_dividing_the_log_has_no_empty_last_batch(
    store: EventStore, storage: ReadModelStore
) -> None:
    positions = await a_hub(store, samples=1)
    assert len(positions) == 9
    seen: list[int] = []
    with within("rebuilding in batches of 3"):
        await rebuild_all(
            store, storage, standard_projections(), HUB, batch_size=3, on_batch=seen.append
        )
    assert seen == [positions[2], positions[5], positions[8]]


async def test_rebuild_all_of_an_empty_log_reaches_zero_and_reports_no_batch(
    store: EventStore, storage: ReadModelStore
) -> None:
    seen: list[int] = []
    with within("rebuilding an empty hub"):
        assert (
            await rebuild_all(store, storage, standard_projections(), HUB, on_batch=seen.append)
            == 0
        )
    assert seen == []


async def test_rebuild_all_drops_a_model_built_otherwise_first(
    store: EventStore, storage: ReadModelStore
) -> None:
    await a_hub(store, samples=5)
    await run(store, storage, MetricsProjection(RetentionPolicy(raw_s=600)))
    metrics = MetricsProjection()
    with pytest.raises(ProjectionOutdated):  # what a runner says about the old model
        await run(store, storage, metrics)
    with within("rebuilding over the old model"):
        await rebuild_all(store, storage, [metrics], HUB, batch_size=2)
    assert await stored_rows(storage, metrics) == await folded_rows(store, metrics)


async def test_a_model_rebuilt_twice_at_once_finishes_after_its_conflict(
    store: EventStore, storage: ReadModelStore
) -> None:
    # The second runner of the same model meets the first's checkpoint on its
    # first commit: it reloads, drops out of the shared read and catches up
    # on its own at the end.
    positions = await a_hub(store, samples=7)
    metrics = MetricsProjection()
    seen: list[int] = []
    with within("rebuilding one model twice over"):
        reached = await rebuild_all(
            store, storage, [metrics, MetricsProjection()], HUB, batch_size=3, on_batch=seen.append
        )
    assert reached == positions[-1]
    assert seen == batch_ends(positions, 3)
    assert await stored_rows(storage, metrics) == await folded_rows(store, metrics)
    checkpoint = await storage.checkpoint(metrics.name, HUB)
    assert checkpoint is not None and checkpoint.position == positions[-1]
