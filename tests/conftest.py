"""Fixtures shared by every test: backends by URL, each test on its own data.

Suites choose their backends by defining ``backend`` (a parametrised fixture
over a list from ``tests/backends.py``); every case on a server-backed
backend gets the ``external_service`` marker here, so
``pytest -m "not external_service"`` runs the rest without any server.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters import open_store, readmodel_store_for
from eventstore import EventStore
from projections import ReadModels, ReadModelStore
from tests import services
from tests.backends import SERVER_KINDS, Backend


@pytest.fixture
def store_url(backend: Backend, make_url: Callable[[str], str]) -> str:
    """Fresh data on the backend a suite's ``backend`` fixture names."""
    return make_url(backend.kind)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[EventStore]:
    async with open_store(store_url) as store:
        yield store


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head, for ``make_url`` to copy: a copy
    costs a few milliseconds, migrating every test's file ~30 ms (the
    migrations themselves are tested on fresh files by their own tests)."""
    import sqlite3

    from adapters.sql import create_engine, migrations

    path = tmp_path_factory.mktemp("template") / "hublog.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        migrations.upgrade(conn)
    engine.dispose()
    with sqlite3.connect(path) as conn:  # everything in the main file: nothing in a -wal beside it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def make_url(tmp_path: Path, migrated_sqlite: Path) -> Iterator:
    """``make_url(kind)`` -> a store URL on fresh, isolated data of that kind."""
    import shutil
    from contextlib import ExitStack

    with ExitStack() as stack:

        def make(kind: str) -> str:
            if kind == "memory":
                return "memory://"
            if kind == "sqlite":
                path = tmp_path / "hublog.db"
                if not path.exists():  # a second call in one test names the same data
                    shutil.copyfile(migrated_sqlite, path)
                return f"sqlite:///{path}"
            if kind == "postgresql":
                return stack.enter_context(services.postgres_schema())
            if kind == "redis":
                return stack.enter_context(services.redis_prefix())
            raise ValueError(kind)

        yield make


@pytest.fixture
async def storage(store: EventStore) -> AsyncIterator[ReadModelStore]:
    """The read-model store beside ``store`` (same backend and database)."""
    async with readmodel_store_for(store) as storage:
        yield storage


@pytest.fixture
def reader(storage: ReadModelStore) -> ReadModels:
    return ReadModels(storage)


SERVER_FIXTURES = frozenset(
    {"redis_url", "proxied_url", "own_server", "local_cluster", "cluster_url", "pg_url"}
)


LONG = os.environ.get("HUBLOG_LONG", "") not in ("", "0")
LONG_TIMEOUT = 3600
"""Seconds per test of the long profile (the others: ``timeout`` in pyproject.toml)."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[Any]) -> None:
    _mark_server_cases(items)
    if not LONG:  # the long profile is deselected, not skipped: CI skips nothing
        _deselect(config, items, lambda item: bool(item.get_closest_marker("long")))
    for item in items:  # the long profile's runs last minutes by design
        if item.get_closest_marker("long"):
            item.add_marker(pytest.mark.timeout(LONG_TIMEOUT))
    scope, leave_out = _mutation_scope()
    if scope:
        _deselect(config, items, lambda item: not item.nodeid.startswith(scope))
    if leave_out:
        _deselect(config, items, lambda item: any(part in item.nodeid for part in leave_out))


def _mutation_scope() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A part of the mutation run (tests/mutation) runs only its area's tests:
    HUBLOG_MUTATION_SCOPE, comma-separated node-id prefixes, and ``!text``
    terms that leave out every test whose id contains ``text`` (another
    backend's cases, say).  Never set in the suite or CI.  Not while mutmut
    lists the tests or maps tests to functions (MUTANT_UNDER_TEST says
    which): that map serves every part."""
    if os.environ.get("MUTANT_UNDER_TEST") in ("list_all_tests", "stats"):
        return (), ()
    terms = [term for term in os.environ.get("HUBLOG_MUTATION_SCOPE", "").split(",") if term]
    prefixes = tuple(term for term in terms if not term.startswith("!"))
    return prefixes, tuple(term[1:] for term in terms if term.startswith("!"))


def _deselect(config: pytest.Config, items: list[Any], leave_out: Callable[[Any], bool]) -> None:
    out = [item for item in items if leave_out(item)]
    if out:
        config.hook.pytest_deselected(items=out)
        items[:] = [item for item in items if not leave_out(item)]


def _mark_server_cases(items: list[Any]) -> None:
    """Mark every case that needs a server: a server-backed backend among its
    parameters (a ``Backend`` or its kind's name), a Redis fixture, or a test
    under ``tests/adapters/redis``."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params.values() if callspec is not None else ()
        needs = (
            any(_needs_server(value) for value in params)
            or bool(SERVER_FIXTURES & set(getattr(item, "fixturenames", ())))
            or "tests/adapters/redis/" in item.nodeid
        )
        if needs:
            item.add_marker(pytest.mark.external_service)


def _needs_server(param: object) -> bool:
    if isinstance(param, Backend):
        return param.needs_server
    if isinstance(param, tuple | list):  # e.g. a (kind, async library) case
        return any(_needs_server(part) for part in param)
    return isinstance(param, str) and param in SERVER_KINDS
