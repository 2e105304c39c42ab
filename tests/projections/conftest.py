"""Projections run against every backend that has read-model storage
(``tests/backends.py``); each test gets a fresh event store and the
read-model store beside it (the ``storage`` fixture of ``tests/conftest.py``).
"""

from __future__ import annotations

import pytest

from tests.backends import READMODEL_BACKENDS, Backend


@pytest.fixture(params=READMODEL_BACKENDS, ids=[b.id for b in READMODEL_BACKENDS])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param


@pytest.fixture
def anyio_backend(backend: Backend) -> str:
    return backend.anyio
