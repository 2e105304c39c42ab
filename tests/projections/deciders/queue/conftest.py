"""Queue tests run on the hub API's backends (asyncio: Gleitzeit is
asyncio-only), each on fresh data; the safety test on the shared ones."""

from tests.adapters.hub.fixtures import adapter, anyio_backend, backend

__all__ = ["adapter", "anyio_backend", "backend"]
