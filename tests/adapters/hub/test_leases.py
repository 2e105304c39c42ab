"""Gleitzeit 0.0.5's lock methods over the lease service (``adapters.hub.leases``)."""

from __future__ import annotations

import pytest

from adapters.hub.leases import HubLeases
from eventstore import EventStore
from tests import backends
from tests.backends import BACKENDS, backend_fixture

pytestmark = pytest.mark.anyio


# The lease service's backends (every one, trio ones included), not the hub API's.
backend = backend_fixture(BACKENDS)
anyio_backend = backends.async_library_of_the_backend


async def test_the_0_0_5_lock_methods_keep_their_shape_and_lose_their_bugs(
    store: EventStore,
) -> None:
    locks = HubLeases(store, "pool", capacities={"ollama-1": 2})
    assert await locks.acquire_lock("ollama-1", "node-a")
    assert await locks.acquire_lock("ollama-1", "node-b")
    assert not await locks.acquire_lock("ollama-1", "node-c")  # max_concurrent=2
    assert await locks.get_lock_owner("ollama-1") == "node-b"

    await locks.release_lock("ollama-1", "node-c")  # holds nothing: releases nothing
    assert not await locks.extend_lock("ollama-1", "node-c")
    assert await locks.extend_lock("ollama-1", "node-a", timeout=60)
    await locks.release_lock("ollama-1", "node-b")
    assert await locks.get_lock_owner("ollama-1") == "node-a"
    assert await locks.get_lock_owner("other") is None
