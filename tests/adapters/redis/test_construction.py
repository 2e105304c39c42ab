"""What a Redis store is built from: settings (with options on top), a URL,
the codec given; what it keeps of them."""

from __future__ import annotations

import pytest
from redis.cluster import RedisCluster

from adapters import open_store
from adapters.redis import RedisEventStore, RedisSettings
from eventstore.codec import Codec

pytestmark = pytest.mark.anyio


async def test_options_given_beside_settings_are_applied_on_top_of_them() -> None:
    settings = RedisSettings.from_url("redis://cache.internal:6380/3?key_prefix=from-url")

    store = RedisEventStore(settings, key_prefix="given", retries=7)

    assert (store.key_prefix, store.retries, store.where) == (
        "given",
        7,
        "redis://cache.internal:6380/3?key_prefix=from-url",
    )
    assert settings.key_prefix == "from-url"  # the settings given are left as they were
    await store.close()


async def test_a_store_keeps_the_settings_it_was_built_from() -> None:
    store = RedisEventStore("redis://cache.internal:6380/3?retries=2&block_timeout=0.5")

    assert (store.retries, store.block_timeout, store.where) == (
        2,
        0.5,
        "redis://cache.internal:6380/3?retries=2&block_timeout=0.5",
    )
    await store.close()


async def test_the_codec_given_is_the_one_the_store_uses(redis_url: str) -> None:
    codec = Codec()

    async with open_store(redis_url, codec=codec) as opened:
        assert opened.codec is codec
    direct = RedisEventStore(redis_url, codec=codec)
    assert direct.codec is codec
    await direct.close()


async def test_a_cluster_client_made_from_a_url_gets_the_stores_timeouts(cluster_url: str) -> None:
    async with open_store(cluster_url, socket_timeout=4) as store:
        assert isinstance(store, RedisEventStore)
        assert isinstance(store.client, RedisCluster)
        kwargs = store.client.get_connection_kwargs()

    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (4.0, 4.0)
