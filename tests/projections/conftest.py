"""Projections, and the read-model storage contract (``readmodels/``), run
against every backend that has read-model storage (``tests/backends.py``);
each test gets a fresh event store and the read-model store beside it (the
``storage`` fixture of ``tests/conftest.py``).
"""

from __future__ import annotations

from tests import backends
from tests.backends import READMODEL_BACKENDS, backend_fixture

backend = backend_fixture(READMODEL_BACKENDS)
anyio_backend = backends.async_library_of_the_backend
