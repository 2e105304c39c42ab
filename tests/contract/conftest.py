"""The contract suite runs against every backend through the ``store`` fixture.

Its ids name the backend (and the async library when it is not asyncio).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from adapters import open_store
from eventstore import EventStore
from tests.conftest import Backend

BACKENDS = [
    Backend("memory"),
    Backend("memory", "trio"),
    Backend("sqlite"),
    Backend("sqlite", "trio"),
    Backend("postgresql"),
    Backend("redis"),
    Backend("redis", "trio"),
]


@pytest.fixture(params=BACKENDS, ids=[b.id for b in BACKENDS])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param


@pytest.fixture
def anyio_backend(backend: Backend) -> str:
    return backend.anyio


@pytest.fixture
def store_url(backend: Backend, make_url: Callable[[str], str]) -> str:
    return make_url(backend.kind)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[EventStore]:
    async with open_store(store_url) as store:
        yield store
