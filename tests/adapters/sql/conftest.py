"""Fixtures shared by the SQL backend's tests: both SQL backends under
asyncio (the async library changes nothing SQL does), a PostgreSQL URL for
the tests of PostgreSQL alone, and a local zone away from UTC, for the
times a backend must store and read as UTC whatever the process's (or, on
PostgreSQL, the session's) zone."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from tests import backends
from tests.backends import SQL_BACKENDS, Backend, backend_fixture

backend = backend_fixture(SQL_BACKENDS)
anyio_backend = backends.asyncio_only


@pytest.fixture
def pg_url(make_url: Callable[[str], str]) -> str:
    return make_url("postgresql")


@pytest.fixture
def away_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's local time five hours behind UTC (a POSIX TZ: no tzdata needed)."""
    monkeypatch.setenv("TZ", "HLT+05")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def zoned_url(backend: Backend, make_url: Callable[[str], str], away_from_utc: None) -> str:
    """A store URL; on PostgreSQL its sessions' TimeZone is five and a half hours ahead."""
    url = make_url(backend.kind)
    return f"{url}%20-ctimezone%3DAsia/Kolkata" if backend.kind == "postgresql" else url
