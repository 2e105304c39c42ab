"""From a URL to a ready store: the one table of backends, ``open_store`` and
``readmodel_store_for``.

Adding a backend is one package in ``adapters/`` that exposes
``create_store(url: StoreURL, **options) -> EventStore`` (its event store
having a ``readmodel_store()`` method), one row in :data:`BACKENDS`, and one
entry in ``tests/backends.py``.  Backend packages are imported only when a
URL names them, so opening ``memory://`` or ``redis://`` never imports
SQLAlchemy.
"""

from __future__ import annotations

import importlib
from collections.abc import Generator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from eventstore.errors import StoreConfigurationError
from eventstore.store import EventStore
from projections.readmodel_store import ReadModelStore

from . import urls


@dataclass(frozen=True)
class BackendEntry:
    """One backend: its name, the URL schemes that select it, its package,
    and the settings class in it that checks a URL's options (None: the
    backend takes none)."""

    name: str
    schemes: tuple[str, ...]
    package: str
    settings: str | None = None


BACKENDS: tuple[BackendEntry, ...] = (
    BackendEntry("memory", ("memory",), "adapters.memory"),
    BackendEntry("sqlite", ("sqlite", "sqlite+pysqlite"), "adapters.sql", "SQLSettings"),
    BackendEntry(
        "postgresql",
        ("postgresql", "postgres", "postgresql+psycopg"),
        "adapters.sql",
        "SQLSettings",
    ),
    BackendEntry(
        "redis",
        ("redis", "rediss", "redis+cluster", "rediss+cluster"),
        "adapters.redis",
        "RedisSettings",
    ),
)
_BY_SCHEME = {scheme: entry for entry in BACKENDS for scheme in entry.schemes}


@runtime_checkable
class WithReadModels(Protocol):
    """An event store that can make the read-model store beside its log."""

    def readmodel_store(self) -> ReadModelStore: ...


def parse(url: object) -> urls.StoreURL:
    """Which backend ``url`` names, and its options.

    Raises: StoreConfigurationError for an unknown scheme or malformed URL
    (the message names the URL, password redacted).
    """
    parts, options = urls.split(url)
    assert isinstance(url, str)
    entry = _BY_SCHEME.get(parts.scheme.lower())
    if entry is None:
        known = ", ".join(sorted(_BY_SCHEME))
        raise StoreConfigurationError(
            f"unknown store URL scheme {parts.scheme.lower()!r} in {urls.redact(url)!r}; "
            f"known: {known}"
        )
    return urls.StoreURL(url, entry.name, options)


def backend_package(parsed: urls.StoreURL) -> Any:
    return importlib.import_module(_entry(parsed).package)


def _entry(parsed: urls.StoreURL) -> BackendEntry:
    return next(e for e in BACKENDS if e.name == parsed.backend)


def check(url: str, **options: Any) -> urls.StoreURL:
    """``url`` and ``options`` checked as opening the store would check them,
    creating nothing (no engine, no client, no file).

    Raises: StoreConfigurationError naming the option and the URL (password
    redacted).
    """
    parsed = parse(url)
    settings = _entry(parsed).settings
    if settings is None:
        if parsed.options or options:
            names = ", ".join(sorted({*parsed.options, *options}))
            raise StoreConfigurationError(f"{parsed.redacted} takes no options, got {names}")
    else:
        getattr(backend_package(parsed), settings).from_url(parsed, **options)
    return parsed


def create_store(
    url: str, *, read_only: bool = False, create: bool = True, **options: Any
) -> EventStore:
    """The store for ``url``, not yet connected (see :func:`open_store`).

    Raises: StoreConfigurationError for an unknown scheme, a malformed URL,
    a bad option (the message names the URL, password redacted), or with
    ``read_only`` / ``create=False`` a SQLite file that does not exist.
    """
    parsed = parse(url)
    if parsed.backend == "sqlite" and (read_only or not create):
        options.update(read_only=read_only, create=create)
        if read_only:
            options.setdefault("auto_migrate", False)
    store: EventStore = backend_package(parsed).create_store(parsed, **options)
    return store


def readmodel_store_for(store: EventStore) -> ReadModelStore:
    """A :class:`ReadModelStore` beside ``store``'s log: same backend, same
    database (for SQL the same connection pool, for Redis the same client).

    For a memory event store it is a new, empty memory store each call: keep
    the one you get.  Closing it leaves ``store`` open.

    Raises: StoreConfigurationError for a backend with no read-model storage.
    """
    if not isinstance(store, WithReadModels):
        raise StoreConfigurationError(f"no read-model storage for {type(store).__name__}")
    return store.readmodel_store()


class open_store:
    """Open the event store at ``url``: ``memory://``, ``sqlite:///file.db``,
    ``postgresql://…``, ``redis://…``.

    Await it, or use it as an async context manager (which also closes)::

        store = await open_store("sqlite:///hublog.db")
        async with open_store("postgresql://127.0.0.1/gleitzeit") as store: ...

    A SQLite file that does not exist yet is created and migrated; any other
    database must have been migrated (``hublog db upgrade URL``).

    ``read_only=True`` (what a reader such as ``hublog events`` wants): a
    SQLite file must exist and is opened read-only; ``create=False``: it
    must exist.  A server's database is never created by opening it, and
    memory holds nothing to protect, so both change nothing there.

    Raises:
        StoreConfigurationError: unknown scheme, malformed URL or bad option.
        SchemaVersionError: the database's schema is missing, older or newer.
        BackendUnavailable: the server did not answer.
    """

    def __init__(
        self, url: str, *, read_only: bool = False, create: bool = True, **options: Any
    ) -> None:
        self._store = create_store(url, read_only=read_only, create=create, **options)

    async def _open(self) -> EventStore:
        try:
            await self._store.open()
        except BaseException:
            await self._store.close()
            raise
        return self._store

    def __await__(self) -> Generator[Any, None, EventStore]:
        return self._open().__await__()

    async def __aenter__(self) -> EventStore:
        return await self._open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._store.close()
