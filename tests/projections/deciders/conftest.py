"""The write side's tests run on every backend, each on fresh data."""

from tests.leases.conftest import anyio_backend, backend

__all__ = ["anyio_backend", "backend"]
