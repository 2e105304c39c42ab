"""The read-model storage contract runs on every backend with read-model
storage (``tests/backends.py``), each test on fresh data."""

from __future__ import annotations

import pytest

from tests.backends import READMODEL_BACKENDS, Backend


@pytest.fixture(params=READMODEL_BACKENDS, ids=[b.id for b in READMODEL_BACKENDS])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param


@pytest.fixture
def anyio_backend(backend: Backend) -> str:
    return backend.anyio
