"""Fixtures shared by every test: backends by URL, each test on its own data.

Suites choose their backends by defining ``backend`` (a parametrised fixture
over a list from ``tests/backends.py``); every case on a server-backed
backend gets the ``external_service`` marker here, so
``pytest -m "not external_service"`` runs the rest without any server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters import open_store, readmodel_store_for
from eventstore import EventStore
from projections import ReadModels, ReadModelStore
from tests import services
from tests.backends import Backend


@pytest.fixture
def store_url(backend: Backend, make_url: Callable[[str], str]) -> str:
    """Fresh data on the backend a suite's ``backend`` fixture names."""
    return make_url(backend.kind)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[EventStore]:
    async with open_store(store_url) as store:
        yield store


@pytest.fixture
def make_url(tmp_path: Path) -> Iterator:
    """``make_url(kind)`` -> a store URL on fresh, isolated data of that kind."""
    from contextlib import ExitStack

    with ExitStack() as stack:

        def make(kind: str) -> str:
            if kind == "memory":
                return "memory://"
            if kind == "sqlite":
                return f"sqlite:///{tmp_path / 'hublog.db'}"
            if kind == "postgresql":
                return stack.enter_context(services.postgres_schema())
            if kind == "redis":
                return stack.enter_context(services.redis_prefix())
            raise ValueError(kind)

        yield make


@pytest.fixture
async def storage(store: EventStore) -> AsyncIterator[ReadModelStore]:
    """The read-model store beside ``store`` (same backend and database)."""
    async with readmodel_store_for(store) as storage:
        yield storage


@pytest.fixture
def reader(storage: ReadModelStore) -> ReadModels:
    return ReadModels(storage)


SERVER_FIXTURES = frozenset(
    {"redis_url", "proxied_url", "own_server", "local_cluster", "cluster_url"}
)


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Mark every case that needs a server: a server-backed ``backend``
    parameter, a Redis fixture, or a test under ``tests/adapters/redis``."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        needs = (
            (isinstance(backend, Backend) and backend.needs_server)
            or bool(SERVER_FIXTURES & set(getattr(item, "fixturenames", ())))
            or "tests/adapters/redis/" in item.nodeid
        )
        if needs:
            item.add_marker(pytest.mark.external_service)
