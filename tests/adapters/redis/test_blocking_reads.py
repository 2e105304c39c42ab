"""Blocking reads (a subscriber's ``XREAD BLOCK``): clients of their own,
one per server, connected like the store's; an idle subscriber waits in
Redis, asking again in slices of STOP_POLL and reading the log again once
per ``block_timeout``, never in a busy loop (a foreign entry past the head
included)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import anyio
import pytest
import redis

from adapters import open_store
from adapters.redis import RedisEventStore
from adapters.redis.connection import Nodes
from adapters.redis.keys import HubKeys
from adapters.redis.store import STOP_POLL
from eventstore import EventStore, RecordedEvent
from tests.adapters.redis.waiting import until
from tests.eventstore.contract.factories import registered
from tests.servers import RedisServer, redis_server

HUB = "ollama-pool"
A = "instance/a"
BLOCK = 0.1  # block_timeout: one slice of STOP_POLL per wait
IDLE = 0.5  # seconds of idling counted: about five waits


def test_blocking_reads_on_one_server_share_one_client_with_a_pool_of_its_own() -> None:
    with redis.Redis(host="cache.internal") as client:
        nodes = Nodes(client)
        blocking = nodes.blocking_for_key("p:{hub-1}:log")

        assert nodes.blocking_for_key("p:{hub-2}:log") is blocking
        assert blocking is not client
        assert blocking.connection_pool is not client.connection_pool
        nodes.close(owned=False)


def address(pool: redis.ConnectionPool) -> dict[str, Any]:
    return {
        k: pool.connection_kwargs.get(k) for k in ("host", "port", "path", "db", "ssl_cert_reqs")
    }


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"unix_socket_path": "/run/redis/redis.sock", "db": 2}, id="unix-socket"),
        pytest.param({"host": "cache.internal", "ssl": True, "ssl_cert_reqs": "none"}, id="tls"),
    ],
)
def test_a_blocking_read_connects_the_way_the_stores_client_does(options: dict[str, Any]) -> None:
    with redis.Redis(**options) as client:
        nodes = Nodes(client)
        pool = nodes.blocking_for_key("p:{hub-1}:log").connection_pool

        assert pool.connection_class is client.connection_pool.connection_class
        assert address(pool) == address(client.connection_pool)
        nodes.close(owned=False)


@pytest.fixture
def precise_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A server of the test's own that ends a BLOCK within 10 ms of its
    timeout.  An idle Redis ends it at its next cron tick (hz 10: up to
    100 ms late), so there even 1 ms blocks would look like slices of 100 ms;
    a busy server, woken by other clients, ends them on time."""
    with RedisServer(redis_server(), tmp_path / "redis", "--hz", "100") as server:
        yield server


async def follow(store: EventStore, into: list[RecordedEvent]) -> None:
    async with aclosing(store.subscribe(HUB)) as events:
        async for event in events:
            into.append(event)


async def calls_while_idle(server: RedisServer, *, foreign_entry: bool) -> dict[str, int]:
    """XRANGE (reads of the log) and XREAD (blocking waits) sent while a
    subscriber, caught up, waits IDLE seconds for nothing."""
    seen: list[RecordedEvent] = []
    async with open_store(server.url, block_timeout=BLOCK) as store:
        assert isinstance(store, RedisEventStore)
        await store.append(HUB, A, [registered()])
        with server.client() as admin:
            if foreign_entry:  # another tool's entry, past the head
                admin.xadd(HubKeys.of(store.key_prefix, HUB).log, {"from": "another tool"})
            async with anyio.create_task_group() as tg:
                tg.start_soon(follow, store, seen)
                await until(lambda: len(seen) == 1, "the subscriber caught up")
                admin.config_resetstat()
                await anyio.sleep(IDLE)
                stats = admin.info("commandstats")
                tg.cancel_scope.cancel()
    assert len(seen) == 1
    return {
        name: int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("xrange", "xread")
    }


@pytest.mark.anyio
@pytest.mark.parametrize("foreign_entry", [False, True], ids=["plain", "past-a-foreign-entry"])
async def test_an_idle_subscriber_reads_the_log_again_once_per_block_timeout(
    precise_server: RedisServer, foreign_entry: bool
) -> None:
    assert BLOCK <= STOP_POLL
    calls = await calls_while_idle(precise_server, foreign_entry=foreign_entry)

    # IDLE / BLOCK = 5 of each; bounds wide enough for a busy machine, far
    # below what a loop that does not wait in Redis sends (hundreds).
    assert 2 <= calls["xrange"] <= 12, calls
    assert 2 <= calls["xread"] <= 20, calls
