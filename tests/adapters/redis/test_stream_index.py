"""The Redis stream index (adapters/redis/stream_index.py): a log written
before the index was kept is indexed once by its first reader; a hub named
ahead of an append that failed is not reported; on a cluster the index keys
live in slots of their own and still answer."""

from __future__ import annotations

import pytest

from adapters import open_store
from adapters.redis import RedisEventStore
from adapters.redis import keys as redis_keys
from tests.eventstore.contract.factories import registered, sampled

pytestmark = pytest.mark.anyio
A = "instance/a"


def forget_the_index(store: RedisEventStore) -> None:
    """As a log written by a hublog without the index: no index keys, no marker."""
    client = store._client
    assert client is not None
    pattern = redis_keys.stream_hubs(store.key_prefix, "*")
    client.delete(*client.scan_iter(match=pattern), redis_keys.stream_index_built(store.key_prefix))


async def test_a_log_written_before_the_index_is_indexed_once_by_its_first_reader(
    redis_url: str,
) -> None:
    async with open_store(redis_url) as writer:
        await writer.append("pool-a", A, [registered()])
        await writer.append("pool-b", A, [registered()])
        await writer.append("pool-b", "metrics/a", [sampled()])
        assert isinstance(writer, RedisEventStore)
        forget_the_index(writer)
        marker = redis_keys.stream_index_built(writer.key_prefix)
        assert writer._client is not None and not writer._client.exists(marker)

    async with open_store(redis_url) as reader:
        assert await reader.hubs_with_stream(A) == ["pool-a", "pool-b"]
        assert await reader.hubs_with_stream("metrics/a") == ["pool-b"]
        assert isinstance(reader, RedisEventStore) and reader._client is not None
        assert reader._client.exists(marker)


async def test_cluster_keys_of_the_index_answer_across_slots(cluster_url: str) -> None:
    async with open_store(cluster_url) as store:
        for hub in ("pool-a", "pool-b", "pool-c"):  # hash tags in different slots
            await store.append(hub, A, [registered()])
        assert await store.hubs_with_stream(A) == ["pool-a", "pool-b", "pool-c"]
