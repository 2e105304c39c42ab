"""Fixtures of the hub API's suites (tests/adapters/hub,
tests/projections/deciders/queue): every backend under asyncio (Gleitzeit is
asyncio-only), and an adapter on fresh data."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.hub import HubPersistenceAdapter
from tests import backends
from tests.backends import BACKENDS, backend_fixture

HUB_BACKENDS = [b for b in BACKENDS if b.anyio == "asyncio"]


backend = backend_fixture(HUB_BACKENDS)
anyio_backend = backends.asyncio_only


@pytest.fixture
async def adapter(store_url: str) -> AsyncIterator[HubPersistenceAdapter]:
    persistence = HubPersistenceAdapter(store_url)
    yield persistence
    await persistence.shutdown()
