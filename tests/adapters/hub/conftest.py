"""The hub API suites run on every backend (asyncio: Gleitzeit is asyncio-only)."""

from tests.adapters.hub.fixtures import adapter, anyio_backend, backend

__all__ = ["adapter", "anyio_backend", "backend"]
