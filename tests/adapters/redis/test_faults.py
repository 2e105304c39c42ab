"""When the network or the server fails: BackendUnavailable, idempotent retries,
subscribers that resume by position, and subscriptions that end when told."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import aclosing
from pathlib import Path

import anyio
import pytest

from adapters import open_store
from eventstore import BackendUnavailable, EventStore, HubStarted, RecordedEvent, ResourceType
from tests.adapters.redis.proxy import Proxy
from tests.adapters.redis.waiting import until
from tests.eventstore.contract.factories import checks, registered
from tests.servers import RedisServer, free_port, redis_server

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections (into its backlog) and never answers."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


async def log_of(store: EventStore) -> list[tuple[int, object]]:
    return [(e.position, e.event_id) async for e in store.read_log(HUB)]


async def collect(store: EventStore, n: int, into: list[RecordedEvent]) -> None:
    async with aclosing(store.subscribe(HUB)) as events:
        async for event in events:
            into.append(event)
            if len(into) == n:
                return


def hub_started(settings: dict[str, str]) -> HubStarted:
    return HubStarted(resource_type=ResourceType.OLLAMA, settings=settings)


def blocked_clients(server: RedisServer) -> int:
    with server.client() as client:
        return int(client.info("clients")["blocked_clients"])


async def test_a_server_that_is_not_there_is_backend_unavailable() -> None:
    port = free_port()

    with pytest.raises(
        BackendUnavailable, match=f"Redis at redis://127.0.0.1:{port}/0: ConnectionError"
    ):
        await open_store(f"redis://127.0.0.1:{port}/0", retries=1)


async def test_a_server_that_does_not_answer_times_out_as_backend_unavailable(
    silent_port: int,
) -> None:
    url = f"redis://127.0.0.1:{silent_port}/0"

    with pytest.raises(BackendUnavailable, match="TimeoutError"):
        await open_store(url, retries=0, socket_timeout=0.3, block_timeout=0.1)


async def test_an_append_whose_reply_was_lost_is_unavailable_then_retried_idempotently(
    redis_url: str, proxied_url: str, proxy: Proxy
) -> None:
    batch = [registered(), *checks(2)]
    async with open_store(proxied_url, retries=0) as store, open_store(redis_url) as direct:
        proxy.swallow_reply_to(b"EVALSHA")

        with pytest.raises(BackendUnavailable):
            await store.append(HUB, A, batch)

        assert proxy.swallowed.is_set()
        written = await log_of(direct)
        assert written == [(n + 1, e.event_id) for n, e in enumerate(batch)]  # the script did run

        again = await store.append(HUB, A, batch)

        assert (again.version, again.first_position, again.last_position) == (3, 1, 3)
        assert await log_of(direct) == written


async def test_an_append_whose_reply_was_lost_returns_the_original_result_after_a_retry(
    redis_url: str, proxied_url: str, proxy: Proxy
) -> None:
    batch = [registered(), *checks(2)]
    async with open_store(proxied_url) as store, open_store(redis_url) as direct:
        proxy.swallow_reply_to(b"EVALSHA")

        result = await store.append(HUB, A, batch)

        assert proxy.swallowed.is_set()
        assert (result.version, result.first_position, result.last_position) == (3, 1, 3)
        assert await log_of(direct) == [(n + 1, e.event_id) for n, e in enumerate(batch)]


async def test_a_subscriber_resumes_by_position_after_its_connection_drops(
    redis_url: str, proxied_url: str, proxy: Proxy
) -> None:
    seen: list[RecordedEvent] = []
    async with open_store(proxied_url) as store, open_store(redis_url) as writer:
        await writer.append(HUB, A, [registered(), *checks(1)])
        blocked = proxy.seen(b"XREAD")

        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                tg.start_soon(collect, store, 6, seen)
                await anyio.to_thread.run_sync(blocked.wait)
                proxy.cut_all()
                await writer.append(HUB, A, checks(2))
                await writer.append(HUB, A, checks(2))

    assert [e.position for e in seen] == [1, 2, 3, 4, 5, 6]


async def test_a_subscriber_rides_out_a_server_restart(tmp_path: Path) -> None:
    seen: list[RecordedEvent] = []
    with RedisServer(redis_server(), tmp_path, "--appendonly", "yes") as server:
        async with open_store(server.url, retries=0, block_timeout=0.2) as store:
            await store.append(HUB, A, [registered(), *checks(1)])

            with anyio.fail_after(30):
                async with aclosing(store.subscribe(HUB)) as events:
                    async for event in events:
                        seen.append(event)
                        if event.position == 1:
                            server.restart()
                            await store.append(HUB, A, checks(2))
                        if len(seen) == 4:
                            break

    assert [e.position for e in seen] == [1, 2, 3, 4]


async def test_a_lasting_outage_ends_a_subscription_with_backend_unavailable(
    own_server: RedisServer,
) -> None:
    seen: list[RecordedEvent] = []
    async with open_store(own_server.url, retries=1, block_timeout=0.2) as store:
        store.reconnect_timeout = 0.5
        await store.append(HUB, A, [registered()])

        with anyio.fail_after(20), pytest.raises(BackendUnavailable, match="ConnectionError"):
            async with aclosing(store.subscribe(HUB)) as events:
                async for event in events:
                    seen.append(event)
                    own_server.kill()

    assert [e.position for e in seen] == [1]


async def test_cancelling_a_subscriber_does_not_wait_for_its_blocking_read(
    own_server: RedisServer,
) -> None:
    # A 60 s XREAD BLOCK: were cancel to wait for it, fail_after would fire.
    async with open_store(own_server.url, block_timeout=60, socket_timeout=90) as store:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(collect, store, 1, [])
                await until(lambda: blocked_clients(own_server) == 1, "the subscriber blocks")
                tg.cancel_scope.cancel()

        assert (await store.append(HUB, A, [registered()])).last_position == 1


async def test_closing_the_store_cuts_its_blocking_reads_short(own_server: RedisServer) -> None:
    seen: list[RecordedEvent] = []
    store = await open_store(own_server.url, block_timeout=60, socket_timeout=90)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(collect, store, 1, seen)
            await until(lambda: blocked_clients(own_server) == 1, "the subscriber blocks")
            await store.close()

    assert seen == []
    await until(lambda: blocked_clients(own_server) == 0, "the server sees the read gone")


async def test_an_append_refused_for_want_of_memory_writes_nothing(tmp_path: Path) -> None:
    # The script is refused before it starts (#!lua), not at its first write.
    blob = {"blob": "x" * 50_000}
    options = ("--maxmemory", "2mb", "--maxmemory-policy", "noeviction")
    with RedisServer(redis_server(), tmp_path, *options) as server:
        async with open_store(server.url, retries=0) as store:
            with pytest.raises(BackendUnavailable, match="out of memory"):
                for _ in range(1000):
                    await store.append(HUB, "hub", [hub_started(blob), hub_started(blob)])
            head = await store.head(HUB)

            assert head % 2 == 0 and head > 0
            assert [e.position async for e in store.read_log(HUB)] == list(range(1, head + 1))
            assert await store.stream_version(HUB, "hub") == head


async def test_cancelled_subscribers_free_their_threads_and_connections_promptly(
    own_server: RedisServer,
) -> None:
    # Before: each cancelled subscribe left a worker thread and a pooled
    # connection blocked in XREAD until block_timeout (2,000 cancellations
    # left 96 threads and 96 fds); now they let go within one short poll.
    async with open_store(own_server.url, block_timeout=30, socket_timeout=40) as store:
        await store.append(HUB, A, [registered()])
        with anyio.fail_after(30):
            for _ in range(20):
                async with anyio.create_task_group() as tg:
                    for _ in range(5):
                        tg.start_soon(collect, store, 2, [])
                    await until(lambda: blocked_clients(own_server) >= 1, "subscribers block")
                    tg.cancel_scope.cancel()

            await until(lambda: blocked_clients(own_server) == 0, "every blocking read ends")
            await until(lambda: _xread_threads() == 0, "every XREAD thread has returned", seconds=5)


def _xread_threads() -> int:
    """Threads now inside the store's blocking read."""
    import sys

    def in_xread(frame: object) -> bool:
        while frame is not None:
            if frame.f_code.co_name == "_xread":  # type: ignore[attr-defined]
                return True
            frame = frame.f_back  # type: ignore[attr-defined]
        return False

    return sum(in_xread(frame) for frame in sys._current_frames().values())
