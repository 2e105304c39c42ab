"""Lease tests run on every backend of ``tests/backends.py`` (the safety
test on those shared between processes), each on fresh data."""

from __future__ import annotations

from tests import backends
from tests.backends import BACKENDS, backend_fixture

backend = backend_fixture(BACKENDS)
anyio_backend = backends.async_library_of_the_backend
