"""The Redis backend beyond the contract: keys, options, scripts, ownership, bad input."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest
import redis
from redis.crc import key_slot

from adapters import open_store
from adapters.redis import RedisEventStore
from adapters.redis import keys as redis_keys
from adapters.redis.keys import HubKeys
from adapters.redis.scripts import APPEND
from eventstore import (
    HubStarted,
    InvalidEventError,
    MetricsRolledUp,
    ResourceType,
    StoreConfigurationError,
)
from tests.adapters.redis.proxy import Proxy
from tests.adapters.redis.waiting import until
from tests.eventstore.contract.factories import checks, registered, sampled
from tests.servers import RedisServer

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"


def prefix_of(url: str) -> str:
    return dict(parse_qsl(urlsplit(url).query))["key_prefix"]


def keys_under(url: str) -> set[str]:
    prefix = prefix_of(url)
    with redis.Redis.from_url(url.split("?")[0]) as client:
        return {k.decode() for k in client.scan_iter(match=f"{prefix}*", count=1000)}


async def test_a_hub_is_five_keys_under_its_hash_tag(
    store: RedisEventStore, redis_url: str
) -> None:
    await store.append(HUB, A, [registered()])
    await store.append(HUB, "metrics/a", [sampled()])

    keys = keys_under(redis_url)
    # Beside them, outside the hub's slot: the stream index (which hubs have
    # each stream name), one Set per stream.
    index = {redis_keys.stream_hubs(store.key_prefix, s) for s in (A, "metrics/a")}

    assert keys - index == set(HubKeys.of(store.key_prefix, HUB).all())
    assert index <= keys
    assert {key_slot(k.encode()) for k in keys - index} == {key_slot(HUB.encode())}


async def test_positions_are_the_stream_entry_ids(store: RedisEventStore) -> None:
    await store.append(HUB, A, [registered(), *checks(2)])

    assert store.client is not None
    entries = store.client.xrange(HubKeys.of(store.key_prefix, HUB).log)

    assert [entry_id for entry_id, _ in entries] == [b"1-0", b"2-0", b"3-0"]


async def test_the_key_prefix_comes_from_the_url_or_the_keyword(redis_url: str) -> None:
    mine = f"hublog-test-{uuid.uuid4().hex[:12]}"

    from_url = RedisEventStore(redis_url)
    keyword = RedisEventStore(redis_url, key_prefix=mine)
    default = RedisEventStore(redis_url.split("?")[0])

    assert from_url.key_prefix == prefix_of(redis_url)
    assert keyword.key_prefix == mine
    assert default.key_prefix == "gleitzeit:hub"
    for store in (from_url, keyword, default):
        await store.close()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("key_prefix=%7Bx%7D", "brace"),
        ("wait_for_aof=maybe", "wait_for_aof='maybe' is not a boolean"),
        ("retries=-1", "retries='-1' must be at least 0"),
        ("block_timeout=soon", "block_timeout='soon' is not a number"),
        ("block_timeout=9", r"socket_timeout \(5.0s\) must exceed block_timeout"),
        ("socket_timeout=0.5", r"socket_timeout \(0.5s\) must exceed block_timeout \(1.0s\)"),
        ("wait_for_aof=1&wait_for_aof_timeout=6", r"must exceed wait_for_aof_timeout \(6.0s\)"),
    ],
)
async def test_bad_options_are_refused_naming_the_option(query: str, message: str) -> None:
    with pytest.raises(StoreConfigurationError, match=message):
        RedisEventStore(f"redis://127.0.0.1:6379/0?{query}")


async def test_a_rediss_url_makes_a_tls_client_and_leaves_driver_options_to_redis_py() -> None:
    store = RedisEventStore("rediss://127.0.0.1:6380/2?key_prefix=x&socket_timeout=7")

    assert store.client is not None
    pool = store.client.connection_pool
    assert pool.connection_class is redis.SSLConnection
    assert (pool.connection_kwargs["db"], pool.connection_kwargs["socket_timeout"]) == (2, 7.0)
    assert (store.key_prefix, store.socket_timeout) == ("x", 7.0)
    await store.close()


async def test_a_client_given_is_left_open(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url.split("?")[0])
    prefix = f"hublog-test-{uuid.uuid4().hex[:12]}"
    try:
        async with RedisEventStore(client, key_prefix=prefix) as store:
            await store.open()
            await store.append(HUB, A, [registered()])

        assert client.ping()
        assert client.hget(HubKeys.of(prefix, HUB).meta, "head") == b"1"
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()


async def test_a_client_made_from_the_url_is_closed_with_the_store(redis_url: str) -> None:
    name = f"hublog-test-{uuid.uuid4().hex[:12]}"
    with redis.Redis.from_url(redis_url.split("?")[0]) as admin:

        def connections() -> int:
            return sum(1 for c in admin.client_list() if c["name"] == name)

        store = await open_store(f"{redis_url}&client_name={name}")
        await store.append(HUB, A, [registered()])
        assert connections() >= 1

        await store.close()

        await until(lambda: connections() == 0, "the store's connections are gone")


async def test_a_client_with_decoded_responses_is_refused() -> None:
    with pytest.raises(StoreConfigurationError, match="decode_responses"):
        RedisEventStore(redis.Redis(decode_responses=True))


async def test_an_event_over_the_limit_sends_nothing(proxied_url: str, proxy: Proxy) -> None:
    async with open_store(proxied_url, max_event_bytes=1000) as store:
        sent = proxy.bytes_sent
        big = HubStarted(resource_type=ResourceType.OLLAMA, settings={"blob": "x" * 1200})

        with pytest.raises(InvalidEventError, match=r"the limit is 1000 \(max_event_bytes\)"):
            await store.append(HUB, "hub", [HubStarted(resource_type=ResourceType.OLLAMA), big])

        assert proxy.bytes_sent == sent
        assert await store.head(HUB) == 0


@pytest.mark.parametrize(
    ("hub_id", "stream"),
    [("{tag}", A), ("", A), ("tab\there", A), (HUB, "instance/{a}"), (HUB, "instance/a\x01")],
)
async def test_names_that_would_break_the_key_scheme_send_nothing(
    proxied_url: str, proxy: Proxy, hub_id: str, stream: str
) -> None:
    async with open_store(proxied_url) as store:
        sent = proxy.bytes_sent

        with pytest.raises(InvalidEventError):
            await store.append(hub_id, stream, [registered()])

        assert proxy.bytes_sent == sent
    assert keys_under(proxied_url.replace(f":{proxy.port}", f":{proxy.upstream[1]}")) == set()


async def test_the_scripts_are_loaded_again_after_the_server_forgot_them(
    own_server: RedisServer,
) -> None:
    async with open_store(own_server.url) as store:
        await store.append(HUB, A, [registered()])
        with own_server.client() as admin:
            admin.script_flush()
            assert admin.script_exists(APPEND.sha) == [False]

            result = await store.append(HUB, A, checks(2))

            assert result.positions == range(2, 4)
            assert admin.script_exists(APPEND.sha) == [True]


async def test_a_retry_is_recognised_by_another_store_much_later(redis_url: str) -> None:
    batch = [registered(), *checks(2)]
    async with open_store(redis_url) as first:
        original = await first.append(HUB, A, batch)
        for _ in range(5):
            await first.append(HUB, "metrics/a", [sampled()])

    async with open_store(redis_url) as second:
        assert await second.append(HUB, A, batch) == original
        assert await second.head(HUB) == 8


async def test_deleting_more_samples_than_one_chunk(store: RedisEventStore) -> None:
    stream = "metrics/a"
    for _ in range(3):
        await store.append(HUB, stream, [sampled(i) for i in range(400)])
    rollup = MetricsRolledUp(resolution_s=60, through_version=1200, buckets=())
    await store.append(HUB, stream, [rollup, *[sampled() for _ in range(3)]])

    removed = await store.delete_metric_samples(HUB, stream, through_version=1202)

    assert removed == 1200 + 1  # 1201 is the rollup
    left = [(e.version, e.type) async for e in store.read_stream(HUB, stream)]
    assert left == [(1201, "MetricsRolledUp"), (1203, "MetricsSampled"), (1204, "MetricsSampled")]
    assert await store.head(HUB) == 1204


async def test_position_at_steps_over_deleted_samples(store: RedisEventStore) -> None:
    await store.append(HUB, A, [registered()])
    await store.append(HUB, "metrics/a", [sampled() for _ in range(5)])
    middle = await store.now()
    await store.append(HUB, "metrics/a", [sampled() for _ in range(5)])
    await store.delete_metric_samples(HUB, "metrics/a", through_version=10)

    assert await store.position_at(HUB, middle) == 1
    assert await store.position_at(HUB, await store.now()) == 1


async def test_hubs_lists_only_hubs_under_its_own_prefix(redis_url: str) -> None:
    prefix = f"hublog-test-{uuid.uuid4().hex[:8]}*[x]?"  # glob characters, escaped in SCAN
    base = redis_url.split("?")[0]
    async with (
        open_store(base, key_prefix=prefix) as mine,
        open_store(base, key_prefix=prefix.replace("*", "-")) as sibling,
    ):
        try:
            await mine.append("hub-a", A, [registered()])
            await sibling.append("hub-b", A, [registered()])

            assert await mine.hubs() == ["hub-a"]
            assert await sibling.hubs() == ["hub-b"]
        finally:
            assert mine.client is not None
            for p in (prefix, prefix.replace("*", "-")):
                for hub in ("hub-a", "hub-b"):
                    mine.client.delete(*HubKeys.of(p, hub).all())


async def test_a_db_index_out_of_range_is_a_configuration_error_not_a_raw_one(
    redis_url: str,
) -> None:
    # Before: a raw redis ResponseError escaped open().
    url = redis_url.replace("/0?", "/99?")

    with pytest.raises(StoreConfigurationError, match="DB index is out of range"):
        await open_store(url)
