"""The runner: batches, live following, poison events, concurrent runners,
outdated models, rebuild.  The storage contract it relies on is
``tests/projections/readmodels/``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import anyio
import pytest

from eventstore import Codec, Event, EventStore
from projections import (
    Folder,
    HealthProjection,
    HubProjection,
    InvalidQuery,
    MetricsProjection,
    ProjectionOutdated,
    ProjectionRunner,
    ReadModels,
    ReadModelStore,
    RetentionPolicy,
    rebuild,
    standard_projections,
)
from tests.deadlines import within
from tests.projections.script import HUB, S, Script, folded_rows, run, stored_rows

pytestmark = pytest.mark.anyio


class FakeHealthChecked(Event, tag="HealthChecked", frozen=True, kw_only=True):
    """Stored under a known type name, but not its shape: a corrupt payload."""

    category = "instance"
    garbage: str = "x"


class MysteryHappened(Event, frozen=True, kw_only=True):
    """A type only a newer writer knows."""

    category = "instance"
    detail: str = ""


async def append_foreign(
    store: EventStore, stream: str, events: Sequence[Event], hub: str = HUB
) -> None:
    """Append with a codec that knows ``events``' types (readers use the default one)."""
    reader_codec = store.codec
    store.codec = Codec(types=[type(e) for e in events])
    try:
        await store.append(hub, stream, list(events))
    finally:
        store.codec = reader_codec


async def a_busy_hub(store: EventStore, hub: str = HUB) -> Script:
    script = Script(store, hub)
    now = await store.now()
    await script.started()
    for name in ("a", "b", "c"):
        await script.healthy(name)
    for i in range(30):
        await script.sample("a", now - timedelta(minutes=30 - i), requests=i)
        await script.check("b", i % 4 != 3)
    await script.grant("a", "node-1", capacity=2)
    await script.deregister("c")
    return script


@pytest.mark.parametrize("batch_size", [1, 7, 500])
async def test_any_batch_size_stores_what_folding_all_at_once_gives(
    store: EventStore, storage: ReadModelStore, batch_size: int
) -> None:
    await a_busy_hub(store)
    for projection in standard_projections():
        position = await run(store, storage, projection, batch_size=batch_size)
        assert position == await store.head(HUB)
        assert await stored_rows(storage, projection) == await folded_rows(store, projection)


async def test_a_folder_in_memory_holds_what_storage_holds(
    store: EventStore, storage: ReadModelStore
) -> None:
    await a_busy_hub(store)
    for projection in standard_projections():
        folder = Folder(projection, every=6)
        await folder.add_all(store.read_log(HUB))
        await run(store, storage, projection)
        assert folder.tables.as_dict() == await stored_rows(storage, projection)


async def test_a_running_runner_follows_new_events(
    store: EventStore, storage: ReadModelStore
) -> None:
    script = await a_busy_hub(store)
    hub = HubProjection()
    runner = ProjectionRunner(store, storage, hub, HUB, batch_size=10)
    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            assert await tg.start(runner.run) == await store.head(HUB)
            await script.healthy("d")
            await script.grant("d", "node-2")
            head = await store.head(HUB)
            while runner.position < head:
                await anyio.sleep(0.01)
            tg.cancel_scope.cancel()

    assert await stored_rows(storage, hub) == await folded_rows(store, hub)
    assert "d" in {i.id for i in await ReadModels(storage).instances(HUB)}


async def test_poison_events_are_quarantined_and_the_runner_moves_on(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    await script.register("a")
    await append_foreign(store, "instance/a", [FakeHealthChecked()])
    await append_foreign(store, "instance/a", [MysteryHappened(detail="?")])
    await script.check("a", True)

    for projection in (HubProjection(), HealthProjection()):
        assert await run(store, storage, projection) == 4
        quarantined = await reader.quarantined(projection, HUB)
        assert [(q.position, q.event_type) for q in quarantined] == [
            (2, "HealthChecked"),
            (3, "MysteryHappened"),
        ]
        assert "garbage" in quarantined[0].error or "ok" in quarantined[0].error
        assert quarantined[1].error == "unknown event type"
        assert await stored_rows(storage, projection) == await folded_rows(store, projection)
    # the metrics projection does not fold health checks, but an unknown type may matter
    metrics = MetricsProjection()
    await run(store, storage, metrics)
    assert [q.position for q in await reader.quarantined(metrics, HUB)] == [3]
    [a] = await reader.instances(HUB)
    assert a.last_check_passed


async def test_two_runners_on_one_model_never_apply_a_batch_twice(
    store: EventStore, storage: ReadModelStore
) -> None:
    await a_busy_hub(store)
    health = HealthProjection()
    one = ProjectionRunner(store, storage, health, HUB, batch_size=5)
    two = ProjectionRunner(store, storage, health, HUB, batch_size=3)
    with within("two runners taking turns"):
        await one.catch_up(max_events=12)
        await two.catch_up(max_events=9)  # loaded after one's commits: continues from 12
        assert two.position == 21
        await one.catch_up(max_events=5)  # its checkpoint moved: it reloads, then goes on
        await one.catch_up()
        await two.catch_up()

    assert one.position == two.position == await store.head(HUB)
    assert await stored_rows(storage, health) == await folded_rows(store, health)


async def test_a_model_built_otherwise_is_rebuilt_or_refused(
    store: EventStore, storage: ReadModelStore
) -> None:
    await a_busy_hub(store)
    await run(store, storage, MetricsProjection())
    other = MetricsProjection(RetentionPolicy(raw_s=600))

    with pytest.raises(ProjectionOutdated, match="metrics:v1:raw=86400s"):
        await run(store, storage, other)

    await run(store, storage, other, rebuild_if_outdated=True)
    assert await stored_rows(storage, other) == await folded_rows(store, other)


async def test_a_rebuilt_model_equals_the_live_one(
    store: EventStore, storage: ReadModelStore
) -> None:
    script = await a_busy_hub(store)
    for projection in standard_projections():
        await run(store, storage, projection, batch_size=4)
    await script.change("b", S.HEALTHY, S.DEGRADED)
    live = {p.name: await stored_rows(storage, p) for p in standard_projections()}
    for projection in standard_projections():
        await run(store, storage, projection, batch_size=4)
        live[projection.name] = await stored_rows(storage, projection)
        seen: list[int] = []
        assert await rebuild(
            store, storage, projection, HUB, batch_size=9, on_batch=seen.append
        ) == await store.head(HUB)
        assert seen == sorted(seen) and seen[-1] == await store.head(HUB)
        assert await stored_rows(storage, projection) == live[projection.name]


async def test_nonsense_settings_are_refused_by_name(
    store: EventStore, storage: ReadModelStore
) -> None:
    with pytest.raises(InvalidQuery, match="batch_size must be >= 1, got 0"):
        ProjectionRunner(store, storage, HubProjection(), HUB, batch_size=0)
    with pytest.raises(InvalidQuery, match="snapshot_every must be >= 1 or None, got -5"):
        ProjectionRunner(store, storage, HubProjection(), HUB, snapshot_every=-5)
    with pytest.raises(InvalidQuery, match="RetentionPolicy.minute_s must be > 0 seconds, got 0"):
        RetentionPolicy(minute_s=0)
    with pytest.raises(InvalidQuery, match="has no table 'nope'"):
        await ReadModels(storage).rows(HubProjection(), HUB, "nope")
    with pytest.raises(InvalidQuery, match="60 and 3600 seconds, not 300"):
        await ReadModels(storage).rollups(HUB, "a", 300)
