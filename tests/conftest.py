"""Fixtures shared by every test: backends by URL, each test on its own data."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters import open_store
from eventstore import EventStore
from tests import services


@dataclass(frozen=True)
class Backend:
    """One way to run the contract: a store kind under an async library."""

    kind: str  # memory | sqlite | postgresql | redis
    anyio: str = "asyncio"

    @property
    def id(self) -> str:
        return self.kind if self.anyio == "asyncio" else f"{self.kind}-{self.anyio}"

    @property
    def multiprocess(self) -> bool:
        return self.kind != "memory"


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
