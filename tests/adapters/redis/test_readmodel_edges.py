"""The Redis read-model store at its edges: the hub registry a drop leaves
clean, a conflict that names the model, a checkpoint at 0, a row key whose
row is gone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.redis import RedisEventStore
from adapters.redis.readmodels import RedisReadModelStore
from projections.errors import CheckpointConflict
from projections.readmodel_store import Commit

pytestmark = pytest.mark.anyio

PROJECTION = "edges"
HUB = "pool-1"


@pytest.fixture
async def storage(store: RedisEventStore) -> AsyncIterator[RedisReadModelStore]:
    storage = store.readmodel_store()
    yield storage
    await storage.close()


def a_commit(*, after: int = 0, position: int = 1, **given: object) -> Commit:
    return Commit(
        projection=PROJECTION,
        hub_id=HUB,
        fingerprint="fp",
        after=after,
        position=position,
        **given,  # type: ignore[arg-type]
    )


def registry(store: RedisEventStore) -> set[bytes]:
    client = store.client
    assert client is not None
    return set(client.smembers(f"{store.key_prefix}:rm:hubs:{PROJECTION}"))  # type: ignore[arg-type]


async def test_a_committed_hub_is_registered_under_the_prefix_and_a_drop_removes_it(
    store: RedisEventStore, storage: RedisReadModelStore
) -> None:
    await storage.commit(a_commit(writes=(("t", "a", b"1"),)))
    assert registry(store) == {HUB.encode()}

    await storage.drop(PROJECTION, HUB)

    assert registry(store) == set()
    assert await storage.hubs(PROJECTION) == []


async def test_a_commit_after_a_moved_checkpoint_names_the_projection_and_hub(
    storage: RedisReadModelStore,
) -> None:
    await storage.commit(a_commit(position=3))

    with pytest.raises(CheckpointConflict) as caught:
        await storage.commit(a_commit(after=5, position=6))

    conflict = caught.value
    assert (conflict.projection, conflict.hub_id, conflict.expected, conflict.actual) == (
        PROJECTION,
        HUB,
        5,
        3,
    )
    assert str(conflict) == (
        f"Checkpoint moved: 3 (Projection: {PROJECTION}, Hub: {HUB}, Expected: 5, Actual: 3)"
    )


async def test_a_hub_whose_checkpoint_is_at_0_has_no_read_model_yet(
    storage: RedisReadModelStore,
) -> None:
    assert await storage.commit(a_commit(after=0, position=0)) is True
    checkpoint = await storage.checkpoint(PROJECTION, HUB)
    assert checkpoint is not None and checkpoint.position == 0

    assert await storage.hubs(PROJECTION) == []


async def test_a_scan_steps_over_a_row_key_whose_row_is_missing(
    store: RedisEventStore, storage: RedisReadModelStore
) -> None:
    await storage.commit(a_commit(writes=(("t", "a", b"1"), ("t", "c", b"3"))))
    client = store.client
    assert client is not None
    client.zadd(f"{store.key_prefix}:{{{HUB}}}:rm:{PROJECTION}:k:t", {"b": 0})

    assert await storage.scan(PROJECTION, HUB, "t") == [("a", b"1"), ("c", b"3")]
