"""The one call path to Redis: refusals and outages named with the server and
the error, retries under the one backoff policy (none after close), blocking
reads on threads of their own."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import anyio
import pytest
import redis
from redis import exceptions as rex
from redis.crc import key_slot

from adapters import open_store
from adapters.redis import RedisEventStore
from adapters.redis.calls import CallPath, reason
from adapters.redis.connection import Nodes
from adapters.redis.settings import RedisSettings
from eventstore import BackendError, BackendUnavailable, StoreClosed, StoreConfigurationError
from eventstore.retry import RetryPolicy
from tests.servers import LocalCluster, free_port

pytestmark = pytest.mark.anyio


def a_call_path(url: str, *, closed: bool) -> CallPath:
    """A call path whose one node is the server at ``url``."""
    settings = RedisSettings.from_url(url)
    assert settings.client_url is not None
    nodes = Nodes(redis.Redis.from_url(settings.client_url, socket_timeout=0.5))

    async def never_opened() -> None:
        raise AssertionError("the nodes are given")

    return CallPath(
        settings, ensure_open=never_opened, live_nodes=lambda: nodes, is_closed=lambda: closed
    )


def calls_to_nobody(path: CallPath) -> list[int]:
    """Attempt one PING at a port where nobody listens; the attempts made."""
    tries: list[int] = []

    def ping() -> object:
        tries.append(len(tries) + 1)
        return path.nodes().any().ping()

    with pytest.raises(BackendUnavailable) as caught:
        path.attempt(ping)
    assert str(caught.value).startswith(f"Redis at {path.settings.where}: ConnectionError: ")
    return tries


def test_a_reason_is_the_error_type_and_its_text_or_the_type_alone() -> None:
    assert reason(rex.ResponseError(" WRONGTYPE of key  ")) == "ResponseError: WRONGTYPE of key"
    assert reason(rex.ResponseError()) == "ResponseError"
    assert reason(rex.ResponseError("  ")) == "ResponseError"


async def test_a_refused_call_names_the_server_and_the_redis_error(
    store: RedisEventStore,
) -> None:
    with pytest.raises(BackendError) as caught:
        await store.calls.run(lambda nodes: nodes.any().execute_command("HUBLOG-NO-SUCH-CMD"))

    assert str(caught.value) == (
        f"Redis at {store.where} refused the request: ResponseError: unknown command "
        "'HUBLOG-NO-SUCH-CMD', with args beginning with:"
    )


async def test_a_wrong_password_is_a_configuration_error_naming_the_server() -> None:
    url = f"redis://hublog-nobody:wrong@127.0.0.1:6379/0?key_prefix=hublog-test-{free_port()}"
    where = RedisSettings.from_url(url).where
    with pytest.raises(StoreConfigurationError) as caught:
        async with open_store(url):
            pass

    assert "wrong" not in where
    assert str(caught.value) == (
        f"Redis at {where} refused the connection: "
        "invalid username-password pair or user is disabled."
    )


def test_the_call_path_retries_under_the_one_backoff_policy() -> None:
    path = a_call_path(f"redis://127.0.0.1:{free_port()}/0?retries=5", closed=False)

    assert path.policy == RetryPolicy(initial=0.05, multiplier=2, cap=1.0, attempts=6)


def test_a_lost_connection_is_tried_again_as_often_as_retries_allow() -> None:
    path = a_call_path(f"redis://127.0.0.1:{free_port()}/0?retries=2", closed=False)

    assert calls_to_nobody(path) == [1, 2, 3]


def test_a_lost_connection_after_close_is_not_tried_again() -> None:
    path = a_call_path(f"redis://127.0.0.1:{free_port()}/0?retries=2", closed=True)

    assert calls_to_nobody(path) == [1]


async def test_a_blocking_read_after_close_names_the_closed_store(redis_url: str) -> None:
    async with open_store(redis_url) as store:
        assert isinstance(store, RedisEventStore)
        await store.open()
    with pytest.raises(StoreClosed) as caught:
        await store.calls.run_blocking(lambda nodes: nodes.any().ping())

    assert str(caught.value) == f"the Redis store at {store.where} is closed"


class HeldReads:
    """A blocking call that counts itself in and then waits to be released
    (at most 10 s): what a subscriber's XREAD BLOCK does to its thread."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.running = 0
        self._lock = threading.Lock()

    def __call__(self, nodes: Nodes) -> None:
        with self._lock:
            self.running += 1
        self.release.wait(10)

    async def until_running(self, count: int) -> None:
        with anyio.fail_after(5):
            while self.running < count:
                await anyio.sleep(0.01)


async def test_blocking_reads_leave_the_worker_threads_of_other_calls_free(
    store: RedisEventStore,
) -> None:
    await store.open()
    threads = int(anyio.to_thread.current_default_thread_limiter().total_tokens)
    held = HeldReads()
    try:
        async with anyio.create_task_group() as tg:
            for _ in range(threads):
                tg.start_soon(store.calls.run_blocking, held)
            await held.until_running(threads)
            with anyio.fail_after(1):
                assert await store.calls.run(lambda nodes: nodes.any().ping()) is True
            held.release.set()
    finally:
        held.release.set()


async def test_a_thousand_blocking_reads_run_at_once_and_the_next_waits(
    store: RedisEventStore,
) -> None:
    await store.open()
    held = HeldReads()
    try:
        async with anyio.create_task_group() as tg:
            for _ in range(1001):
                tg.start_soon(store.calls.run_blocking, held)
            await held.until_running(1000)
            await anyio.sleep(0.1)
            assert held.running == 1000
            held.release.set()
    finally:
        held.release.set()
    assert held.running == 1001


def owner_of(cluster: LocalCluster, slot: int) -> int:
    """The index in ``cluster.nodes`` of the primary serving ``slot``."""
    with cluster.nodes[0].client() as client:
        for start, stop, primary, *_ in client.execute_command("CLUSTER", "SLOTS"):
            if start <= slot <= stop:
                port = primary[1]
                return next(i for i, node in enumerate(cluster.nodes) if node.port == port)
    raise AssertionError(f"slot {slot} is served by no node")


@contextmanager
def slot_moved(cluster: LocalCluster, slot: int, to: int) -> Iterator[None]:
    """Move an empty ``slot`` to node ``to`` as a resharding does; back after."""
    clients = [node.client() for node in cluster.nodes]
    ids = [client.execute_command("CLUSTER", "MYID").decode() for client in clients]

    def move(source: int, target: int) -> None:
        assert clients[source].execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
        clients[target].execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[source])
        clients[source].execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[target])
        for i in [target, source, *(i for i in range(len(clients)) if i not in (source, target))]:
            clients[i].execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[target])

    source = owner_of(cluster, slot)
    move(source, to)
    try:
        yield
    finally:
        move(to, source)
        for client in clients:
            client.close()


async def test_a_cluster_call_after_its_slot_moved_learns_the_slots_again(
    local_cluster: LocalCluster, cluster_url: str
) -> None:
    async with open_store(cluster_url) as store:
        await store.head("warm-up")  # the slot map is learnt here
        for _ in range(100):  # a hub whose slot holds no key of another test
            hub = f"moving-{uuid.uuid4().hex[:8]}"
            slot = key_slot(hub.encode())
            owner = owner_of(local_cluster, slot)
            with local_cluster.nodes[owner].client() as client:
                if client.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0:
                    break
        with slot_moved(local_cluster, slot, to=(owner + 1) % len(local_cluster.nodes)):
            assert await store.head(hub) == 0  # MOVED, the slots learnt again, then served
