"""The queue read model: kept by a runner from its checkpoint, it equals the
fold from 0 (live == rebuild) on every backend with read-model storage,
trio ones included: the model is a projection like the standard ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest

from eventstore import EventStore, streams
from eventstore.values import ResourceStatus, ResourceType
from projections import InstanceState, ProjectionRunner, ReadModelStore, rebuild
from projections.deciders.queue import Candidate, QueueService, ReservationTimeout
from projections.queue import QueueModel, QueueProjection, fold
from tests.projections.script import folded_rows, stored_rows

pytestmark = pytest.mark.anyio
HUB = "ollama-pool"
LIMIT = 30


def one_slot(name: str = "a") -> Callable[[str], Awaitable[list[Candidate]]]:
    now = datetime.now(UTC)
    instance = InstanceState(
        id=name,
        name=name,
        resource_type=ResourceType.OLLAMA,
        endpoint="http://x",
        status=ResourceStatus.HEALTHY,
        created_at=now,
        updated_at=now,
        registered_at=now,
    )

    async def pool(hub_id: str) -> list[Candidate]:
        return [Candidate(instance=instance, capacity=1)]

    return pool


async def caught_up(runner: ProjectionRunner) -> QueueModel:
    await runner.catch_up()
    assert isinstance(runner.state, QueueModel)
    return runner.state


async def until(runner: ProjectionRunner, done: Callable[[QueueModel], bool]) -> QueueModel:
    """The model once ``done`` holds (the caller's fail_after bounds it)."""
    while not done(model := await caught_up(runner)):
        await anyio.sleep(0.01)
    return model


async def a_contended_queue(store: EventStore, runner: ProjectionRunner) -> None:
    """At once, a waiter granted after a release, one that times out; the
    runner follows along in small batches."""
    service, pool = QueueService(store), one_slot()
    ask: dict[str, Any] = {"requirements": None, "ttl": 30, "pool": pool}
    first = await service.reserve(HUB, owner_id="holder", **ask)
    with pytest.raises(ReservationTimeout):
        await service.reserve(HUB, owner_id="impatient", wait=0.05, **ask)
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: service.reserve(HUB, owner_id="waiter", wait=LIMIT, **ask))
        await until(runner, lambda m: m.queue.depth == 1)
        await service.leases.release(HUB, "a", "holder", first.token)
    await until(runner, lambda m: m.queue.granted == 2)


async def test_the_stored_model_equals_the_fold_from_zero(
    store: EventStore, storage: ReadModelStore
) -> None:
    with anyio.fail_after(LIMIT):
        projection = QueueProjection()
        runner = ProjectionRunner(store, storage, projection, HUB, batch_size=2)
        await a_contended_queue(store, runner)
        live = await caught_up(runner)
        assert await stored_rows(storage, projection, HUB) == await folded_rows(
            store, projection, HUB
        )
        events = [e async for e in store.read_stream(HUB, streams.queue())]
        assert live.queue == fold(events)
        assert (live.queue.depth, live.queue.granted_at_once, live.queue.abandoned) == (0, 1, 1)
        stored = await stored_rows(storage, projection, HUB)
        outcomes = sorted(w.outcome for w in stored["waits"].values())
        assert outcomes == ["granted", "granted", "timeout"]

        assert await rebuild(store, storage, projection, HUB, batch_size=3) == await store.head(HUB)
        assert await stored_rows(storage, projection, HUB) == stored
