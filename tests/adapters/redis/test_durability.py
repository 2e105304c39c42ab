"""Durability: every acknowledged append survives SIGKILL and a restart of a
Redis with its AOF on; wait_for_aof is refused where it cannot be honoured.

A SIGKILL loses what the process had not yet handed to the kernel.  What
only the page cache held survives it (only a power loss takes that), so
these tests check the AOF replay and the all-or-nothing batches; what fsync
buys over that is in docs/redis.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import anyio
import pytest

from adapters import open_store
from adapters.redis import RedisEventStore
from adapters.redis.keys import HubKeys
from eventstore import BackendUnavailable, Event, EventStore, StoreConfigurationError
from tests.eventstore.contract.factories import checks, registered
from tests.servers import RedisServer, redis_server, redis_server_72, version_of

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
WRITERS = 8
ROUNDS = 3  # batches each writer has acknowledged before the kill


class Writers:
    """Writers appending to one hub until the server dies under them."""

    def __init__(self, store: EventStore, kill: Callable[[], None]) -> None:
        self.store = store
        self.kill = kill
        self.acknowledged: dict[UUID, int] = {}  # event id -> position
        self.in_flight: list[list[Event]] = []  # batches sent, never acknowledged
        self.batches = 0

    async def write(self, name: str) -> None:
        for i in range(1000):
            batch = checks(1 + i % 3)
            try:
                result = await self.store.append(HUB, f"instance/{name}", batch)
            except BackendUnavailable:
                self.in_flight.append(batch)
                return
            self.acknowledged.update(
                zip((e.event_id for e in batch), result.positions, strict=True)
            )
            self.batches += 1
            if self.batches == WRITERS * ROUNDS:
                self.kill()  # the other writers are mid-append


@pytest.mark.parametrize(
    ("binary", "appendfsync", "wait_for_aof"),
    [
        pytest.param(redis_server, "always", False, id="appendfsync-always"),
        pytest.param(redis_server_72, "everysec", True, id="everysec-wait_for_aof"),
    ],
)
async def test_every_acknowledged_append_survives_sigkill_and_restart(
    tmp_path: Path, binary: Callable[[], str], appendfsync: str, wait_for_aof: bool
) -> None:
    options = ("--appendonly", "yes", "--appendfsync", appendfsync)
    with RedisServer(binary(), tmp_path, *options) as server:
        async with open_store(server.url, wait_for_aof=wait_for_aof, retries=0) as store:
            writers = Writers(store, server.kill)
            with anyio.fail_after(60):
                async with anyio.create_task_group() as tg:
                    for n in range(WRITERS):
                        tg.start_soon(writers.write, f"w{n}")

        server.start()
        async with open_store(server.url) as store:
            log = {e.event_id: e.position async for e in store.read_log(HUB)}
            head = await store.head(HUB)

    assert writers.in_flight, "the kill came while appends were in flight"
    assert {i: log.get(i) for i in writers.acknowledged} == writers.acknowledged
    assert sorted(log.values()) == list(range(1, head + 1))
    for batch in writers.in_flight:  # written whole or not at all
        assert len({e.event_id in log for e in batch}) == 1


async def test_wait_for_aof_is_refused_at_open_by_a_server_without_waitaof(tmp_path: Path) -> None:
    binary = redis_server()
    if version_of(binary) >= (7, 2):
        pytest.skip(f"the redis-server on PATH ({binary}) has WAITAOF")

    refused = pytest.raises(
        StoreConfigurationError, match=r"needs the WAITAOF command \(Redis >= 7\.2\)"
    )
    with RedisServer(binary, tmp_path, "--appendonly", "yes") as server, refused:
        await open_store(server.url, wait_for_aof=True)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--appendonly", "no"), "needs appendonly yes"),
        (("--appendonly", "yes", "--appendfsync", "no"), "needs appendfsync everysec or always"),
    ],
)
async def test_wait_for_aof_is_refused_at_open_by_a_server_that_would_not_fsync(
    tmp_path: Path, options: tuple[str, ...], message: str
) -> None:
    refused = pytest.raises(StoreConfigurationError, match=message)
    with RedisServer(redis_server_72(), tmp_path, *options) as server, refused:
        await open_store(f"{server.url}?wait_for_aof=true")


async def test_a_retry_under_wait_for_aof_waits_for_the_original_write(tmp_path: Path) -> None:
    # The retry writes nothing new, so it touches the hub: WAITAOF then
    # waits for everything up to now, the original batch included.
    batch = [registered(), *checks(2)]
    options = ("--appendonly", "yes", "--appendfsync", "always")
    with RedisServer(redis_server_72(), tmp_path, *options) as server:
        async with open_store(server.url, wait_for_aof=True) as store:
            assert isinstance(store, RedisEventStore)
            first = await store.append(HUB, "instance/a", batch)

            assert await store.append(HUB, "instance/a", batch) == first
            with server.client() as client:
                assert client.hget(HubKeys.of(store.key_prefix, HUB).meta, "retried") == b"1"
