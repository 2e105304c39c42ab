"""Fixtures of the Redis backend's own tests: the shared Redis under a key
prefix of each test's own, a proxy in front of it, servers of a test's own,
and one local Redis Cluster for the session."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from adapters import open_store
from adapters.redis import RedisEventStore
from tests import backends
from tests.adapters.redis.proxy import Proxy
from tests.servers import LocalCluster, RedisServer, redis_cli, redis_server

anyio_backend = backends.asyncio_only


@pytest.fixture
def redis_url(make_url: Callable[[str], str]) -> str:
    """The shared Redis, under a key prefix of this test's own."""
    return make_url("redis")


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisEventStore]:
    async with open_store(redis_url) as store:
        assert isinstance(store, RedisEventStore)
        yield store


@pytest.fixture
def proxy(redis_url: str) -> Iterator[Proxy]:
    """A proxy in front of the shared Redis; ``proxy.url(...)`` keeps this test's prefix."""
    with Proxy(urlsplit(redis_url).port or 6379) as proxy:
        yield proxy


@pytest.fixture
def proxied_url(redis_url: str, proxy: Proxy) -> str:
    parts = urlsplit(redis_url)
    return proxy.url(f"{parts.path}?{parts.query}")


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own (no persistence)."""
    with RedisServer(redis_server(), tmp_path / "redis") as server:
        yield server


@pytest.fixture(scope="session")
def local_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """Three primaries on free loopback ports, for the whole session."""
    cluster = LocalCluster(redis_server(), redis_cli(), tmp_path_factory.mktemp("cluster"))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def cluster_url(local_cluster: LocalCluster) -> str:
    """The local cluster under a key prefix of this test's own."""
    return f"{local_cluster.url}?key_prefix=hublog-test-{uuid.uuid4().hex[:12]}"


CLUSTER_CONTRACT = Path(__file__).with_name("test_cluster_contract.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[Any]) -> None:
    """The cluster module re-collects every contract test; only those that
    reach the cluster (``local_cluster`` in their fixture closure, as
    ``store`` is) run there.  The others are deselected: ``test_refusals.py``'s
    front checks, each on a MemoryEventStore of its own, would run the very
    same function on the very same memory store a second time."""
    elsewhere = [
        item
        for item in items
        if item.path == CLUSTER_CONTRACT
        and "local_cluster" not in getattr(item, "fixturenames", ())
    ]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        left_out = set(elsewhere)
        items[:] = [item for item in items if item not in left_out]
