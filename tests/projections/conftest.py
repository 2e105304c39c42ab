"""Projections run against every backend that has read-model storage.

The backends are the contract suite's ``BACKENDS``; each test gets a fresh
event store and the read-model store beside it (same database).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import adapters.sql_readmodels  # noqa: F401 - its tables join sql_schema.metadata (the schema test)
from adapters.projection_stores import readmodel_store_for
from eventstore import EventStore
from projections import ReadModels, ReadModelStore
from tests.conftest import Backend
from tests.contract.conftest import BACKENDS

STORAGE_KINDS = {"memory", "sqlite", "postgresql", "redis"}
PROJECTION_BACKENDS = [b for b in BACKENDS if b.kind in STORAGE_KINDS]
SQL_BACKENDS = [
    b for b in PROJECTION_BACKENDS if b.kind in ("sqlite", "postgresql") and b.anyio == "asyncio"
]


@pytest.fixture(params=PROJECTION_BACKENDS, ids=[b.id for b in PROJECTION_BACKENDS])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param


@pytest.fixture
def anyio_backend(backend: Backend) -> str:
    return backend.anyio


@pytest.fixture
async def storage(store: EventStore) -> AsyncIterator[ReadModelStore]:
    async with readmodel_store_for(store) as storage:
        yield storage


@pytest.fixture
def reader(storage: ReadModelStore) -> ReadModels:
    return ReadModels(storage)
