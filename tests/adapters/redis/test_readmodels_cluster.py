"""Read models on a Redis Cluster: each hub's rows, checkpoint and snapshots
in its hash-tag slot, commits as one script there, hubs on several nodes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters import open_store, readmodel_store_for
from adapters.redis import RedisEventStore
from projections import (
    HubProjection,
    ReadModels,
    ReadModelStore,
    rebuild,
    standard_projections,
    state_at,
)
from tests import backends
from tests.projections.script import folded_rows, run, stored_rows
from tests.projections.test_runner import a_busy_hub

pytestmark = pytest.mark.anyio

HUBS = [f"pool-{n}" for n in range(6)]  # enough for their slots to spread over 3 primaries


anyio_backend = backends.asyncio_only


@pytest.fixture
async def store(cluster_url: str) -> AsyncIterator[RedisEventStore]:
    """On the session's local cluster (``conftest.py``), under a key prefix of its own."""
    async with open_store(cluster_url) as store:
        assert isinstance(store, RedisEventStore) and store.cluster
        yield store


@pytest.fixture
async def storage(store: RedisEventStore) -> AsyncIterator[ReadModelStore]:
    async with readmodel_store_for(store) as storage:
        yield storage


async def test_read_models_of_hubs_on_several_nodes(
    store: RedisEventStore, storage: ReadModelStore
) -> None:
    for hub in HUBS:
        await a_busy_hub(store, hub)
        for projection in standard_projections():
            await run(store, storage, projection, hub, batch_size=7)
            assert await stored_rows(storage, projection, hub) == await folded_rows(
                store, projection, hub
            )

    hub = HUBS[-1]
    view = await state_at(store, storage, hub, position=await store.head(hub) - 3)
    assert view.replayed < 1000 and view.instances
    found = await ReadModels(storage).instance("a")
    assert found is not None and found[0] in HUBS
    assert await storage.hubs(HubProjection.name) == sorted(HUBS)
    await rebuild(store, storage, HubProjection(), hub)
    assert await stored_rows(storage, HubProjection(), hub) == await folded_rows(
        store, HubProjection(), hub
    )
    client = store.client
    assert client is not None
    slots = {client.keyslot(f"x:{{{hub}}}") for hub in HUBS}
    owners = {client.get_node_from_key(f"x:{{{hub}}}").name for hub in HUBS}
    assert len(slots) == len(HUBS) and len(owners) > 1  # the hubs really are spread out
