"""The contract suite runs against every backend through the ``store`` fixture
(``tests/conftest.py``), on fresh data of each backend of
``tests/backends.py``.

Its ids name the backend (and the async library when it is not asyncio).
"""

from __future__ import annotations

from tests import backends
from tests.backends import BACKENDS, backend_fixture

backend = backend_fixture(BACKENDS)
anyio_backend = backends.async_library_of_the_backend
