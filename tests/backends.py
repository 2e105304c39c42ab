"""The one list of backends every parametrised suite runs on, and the
fixtures that choose among them.

Adding a backend: one entry here (and its URL in ``make_url`` of
``tests/conftest.py``).  Ids name the backend, and the async library when it
is not asyncio.

A suite's folder (its conftest) or a module says which backends it runs on
and under which async library by naming a fixture from here::

    backend = backend_fixture(SHARED_BACKENDS)
    anyio_backend = async_library_of_the_backend  # or asyncio_only, asyncio_and_trio

(assigned, not imported, so that each fixture is defined once, here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

SERVER_KINDS = frozenset({"postgresql", "redis"})
"""Backends that need a server: their cases carry the ``external_service`` marker."""


@dataclass(frozen=True)
class Backend:
    """One way to run a suite: a store kind under an async library."""

    kind: str  # memory | sqlite | postgresql | redis
    anyio: str = "asyncio"

    @property
    def id(self) -> str:
        return self.kind if self.anyio == "asyncio" else f"{self.kind}-{self.anyio}"

    @property
    def multiprocess(self) -> bool:
        return self.kind != "memory"

    @property
    def needs_server(self) -> bool:
        return self.kind in SERVER_KINDS


BACKENDS = [
    Backend("memory"),
    Backend("memory", "trio"),
    Backend("sqlite"),
    Backend("sqlite", "trio"),
    Backend("postgresql"),
    Backend("redis"),
    Backend("redis", "trio"),
]
"""Every backend, for the event-store contract."""

READMODEL_BACKENDS = [b for b in BACKENDS if b.kind in {"memory", "sqlite", "postgresql", "redis"}]
"""Backends with read-model storage (all of them today)."""

SQL_BACKENDS = [
    b for b in READMODEL_BACKENDS if b.kind in ("sqlite", "postgresql") and b.anyio == "asyncio"
]

SHARED_BACKENDS = [b for b in BACKENDS if b.multiprocess and b.anyio == "asyncio"]
"""Backends whose log several processes share (one async library is enough)."""


def backend_fixture(backends: Sequence[Backend]) -> Any:
    """A ``backend`` fixture with a case for each of ``backends``, its id the
    backend's (``memory``, ``sqlite-trio``, …)."""

    @pytest.fixture(name="backend", params=list(backends), ids=[b.id for b in backends])
    def backend(request: pytest.FixtureRequest) -> Backend:
        return request.param

    return backend


@pytest.fixture(name="anyio_backend")
def async_library_of_the_backend(backend: Backend) -> str:
    """Each case under its backend's async library."""
    return backend.anyio


@pytest.fixture(name="anyio_backend")
def asyncio_only() -> str:
    """One async library: where it is not what the tests are about, or the
    API under test is asyncio-only (Gleitzeit's)."""
    return "asyncio"


@pytest.fixture(name="anyio_backend", params=["asyncio", "trio"])
def asyncio_and_trio(request: pytest.FixtureRequest) -> str:
    """Each case under both async libraries, for tests without a backend."""
    return request.param
