"""Error messages of the Redis backend name the server at fault the way its
URL would (``redis://host:port/db``, ``unix://path``,
``redis+cluster://host:port``), also for a client given instead of a URL,
and say what was refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis
from redis.cluster import RedisCluster

from adapters import open_store
from adapters.redis import RedisEventStore
from adapters.redis.keys import HubKeys
from adapters.redis.store import _waitaof_answer
from eventstore import BackendError, StoreConfigurationError
from tests.servers import LocalCluster, RedisServer, redis_server

HUB = "ollama-pool"


@pytest.mark.parametrize(
    ("options", "where"),
    [
        pytest.param(
            {"host": "cache.internal", "port": 6380, "db": 3},
            "redis://cache.internal:6380/3",
            id="host-port-db",
        ),
        pytest.param(
            {"unix_socket_path": "/run/redis/redis.sock", "db": 2},
            "unix:///run/redis/redis.sock",
            id="unix-socket",
        ),
        pytest.param(
            # A pool given no address connects where redis-py's Connection does.
            {"connection_pool": redis.ConnectionPool()},
            "redis://localhost:6379/0",
            id="pool-without-address",
        ),
    ],
)
def test_a_client_given_is_named_by_the_url_it_connects_to(
    options: dict[str, Any], where: str
) -> None:
    with redis.Redis(**options) as client:  # never connected: nothing is sent
        assert RedisEventStore(client).where == where


def test_a_cluster_client_given_is_named_by_its_default_node(local_cluster: LocalCluster) -> None:
    client = RedisCluster(host="127.0.0.1", port=local_cluster.nodes[0].port)
    try:
        where = RedisEventStore(client).where
    finally:
        client.close()

    assert where in {f"redis+cluster://127.0.0.1:{node.port}" for node in local_cluster.nodes}


def test_a_closed_cluster_client_without_a_default_node_is_named_a_redis_cluster(
    local_cluster: LocalCluster,
) -> None:
    client = RedisCluster(host="127.0.0.1", port=local_cluster.nodes[0].port)
    client.close()  # forgets its default node
    assert client.get_default_node() is None

    assert RedisEventStore(client).where == "a Redis Cluster"


def test_a_plain_client_given_as_a_cluster_is_refused_naming_its_type() -> None:
    with pytest.raises(StoreConfigurationError) as refused:
        RedisEventStore(redis.Redis(host="cache.internal"), cluster=True)

    assert str(refused.value) == "cluster=True does not match the client given (Redis)"


def test_a_client_with_decoded_responses_is_refused_naming_it_and_what_to_give() -> None:
    with pytest.raises(StoreConfigurationError) as refused:
        RedisEventStore(redis.Redis(host="cache.internal", decode_responses=True))

    assert str(refused.value) == (
        "the client for redis://cache.internal:6379/0 has decode_responses=True; events are "
        "bytes, give hublog a client with decode_responses=False"
    )


@pytest.mark.anyio
async def test_a_refused_command_is_a_backend_error_naming_the_server_and_the_reply(
    redis_url: str,
) -> None:
    prefix = redis_url.split("key_prefix=")[1]
    async with RedisEventStore(redis_url) as store:
        assert isinstance(store.client, redis.Redis)
        store.client.set(HubKeys.of(prefix, HUB).meta, "not a hash")

        with pytest.raises(BackendError) as refused:
            await store.head(HUB)

    assert str(refused.value) == (
        f"Redis at {store.where} refused the request: ResponseError: "
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    )


def test_something_that_is_neither_a_url_nor_a_client_is_refused_naming_its_type() -> None:
    with pytest.raises(StoreConfigurationError) as refused:
        RedisEventStore(42)  # type: ignore[arg-type]

    assert str(refused.value) == (
        "client_or_url must be a Redis URL, a redis.Redis or a RedisCluster, got int"
    )


def test_a_url_redis_py_cannot_read_is_refused_naming_it_and_why() -> None:
    with pytest.raises(StoreConfigurationError) as refused:
        RedisEventStore("redis://127.0.0.1:notaport/0")

    assert str(refused.value) == (
        "bad Redis URL 'redis://127.0.0.1:notaport/0': "
        "Port could not be cast to integer value as 'notaport'"
    )


def test_a_url_with_an_unclosed_ipv6_bracket_is_a_configuration_error() -> None:
    with pytest.raises(StoreConfigurationError, match="Invalid IPv6 URL"):
        RedisEventStore("redis://[::1/0")


@pytest.mark.anyio
async def test_a_wrong_password_is_a_configuration_error_naming_the_server(
    tmp_path: Path,
) -> None:
    with RedisServer(redis_server(), tmp_path) as server:
        with server.client() as admin:
            admin.config_set("requirepass", "right")
        url = f"redis://:wrong@127.0.0.1:{server.port}/0"
        with pytest.raises(StoreConfigurationError) as refused:
            await open_store(url)

    assert str(refused.value).startswith(
        f"Redis at redis://:***@127.0.0.1:{server.port}/0 refused the connection: "
    )
    assert "invalid username-password pair or user is disabled" in str(refused.value)


@pytest.mark.parametrize(
    ("synced", "words"),
    [
        (redis.ResponseError("ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled"),
         "ResponseError: ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled"),
        ([0, 0], "[0, 0]"),
    ],
    ids=["an error reply: its own words", "a count reply: as it came"],
)  # fmt: skip
def test_a_refused_waitaof_is_named_in_the_servers_own_words(synced: object, words: str) -> None:
    assert _waitaof_answer(synced) == words
