"""The contract suite runs against every backend through the ``store`` fixture
(``tests/conftest.py``), on fresh data of each backend of
``tests/backends.py``.

Its ids name the backend (and the async library when it is not asyncio).
"""

from __future__ import annotations

import pytest

from tests.backends import BACKENDS, Backend


@pytest.fixture(params=BACKENDS, ids=[b.id for b in BACKENDS])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param


@pytest.fixture
def anyio_backend(backend: Backend) -> str:
    return backend.anyio
