"""Lease tests run on every backend of ``tests/backends.py`` (the safety
test on those shared between processes), each on fresh data."""

from __future__ import annotations

import pytest

from tests.backends import BACKENDS, Backend


@pytest.fixture(params=BACKENDS, ids=[b.id for b in BACKENDS])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param


@pytest.fixture
def anyio_backend(backend: Backend) -> str:
    return backend.anyio
