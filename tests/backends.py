"""The one list of backends every parametrised suite runs on.

Adding a backend: one entry here (and its URL in ``make_url`` of
``tests/conftest.py``).  Ids name the backend, and the async library when it
is not asyncio.
"""

from __future__ import annotations

from dataclasses import dataclass

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
