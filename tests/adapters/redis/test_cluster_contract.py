"""The whole contract suite again, against the local 3-primary Redis Cluster.

Every ``test_*`` of ``tests/eventstore/contract/test_*.py`` is collected here a second
time, as ``test_<module>__<name>``, with ``store`` on the cluster under a key
prefix of its own; the suite's other fixtures (``ten``, …) come along.  The
suite's hubs land on different nodes (``test_cluster.py`` checks), and new
contract modules are picked up without touching this file.  Only the tests
that reach the cluster stay (``conftest.py``): one whose fixtures never lead
to ``local_cluster`` (a front check on a memory store of its own) would only
repeat its run in ``tests/eventstore/contract``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator, Iterator
from types import ModuleType

import pytest

from adapters import open_store
from eventstore import EventStore
from tests.backends import Backend
from tests.eventstore import contract

pytestmark = pytest.mark.anyio


def _contract_modules() -> Iterator[ModuleType]:
    for info in sorted(pkgutil.iter_modules(contract.__path__), key=lambda i: i.name):
        if info.name.startswith("test_"):
            yield importlib.import_module(f"{contract.__name__}.{info.name}")


def _is_fixture(value: object) -> bool:
    return hasattr(value, "_fixture_function_marker")  # pytest's mark on @pytest.fixture


def _collect_here(namespace: dict[str, object]) -> None:
    for module in _contract_modules():
        short = module.__name__.rsplit(".", 1)[1].removeprefix("test_")
        for name, value in vars(module).items():
            if name.startswith("test_") and callable(value):
                namespace[f"test_{short}__{name.removeprefix('test_')}"] = value
            elif _is_fixture(value) and namespace.setdefault(name, value) is not value:
                raise RuntimeError(f"two contract modules define a fixture {name!r}")


_collect_here(globals())


@pytest.fixture
def backend() -> Backend:
    return Backend("redis")


@pytest.fixture
def store_url(cluster_url: str) -> str:
    return cluster_url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[EventStore]:
    async with open_store(store_url) as store:
        yield store
