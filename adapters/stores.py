"""``open_store(url)``: one entry point from a URL to a ready event store."""

from __future__ import annotations

from collections.abc import Generator
from types import TracebackType
from typing import Any

from eventstore.errors import StoreConfigurationError
from eventstore.store import EventStore

from . import urls


def _float_option(parsed: urls.StoreURL, name: str) -> dict[str, float]:
    if name not in parsed.options:
        return {}
    try:
        return {name: float(parsed.options[name])}
    except ValueError:
        raise StoreConfigurationError(
            f"option {name}={parsed.options[name]!r} in {parsed.redacted!r} is not a number"
        ) from None


def create_store(url: str, **options: Any) -> EventStore:
    """The store for ``url``, not yet connected (see :func:`open_store`).

    Raises: StoreConfigurationError for an unknown scheme or malformed URL
    (the message names the URL, password redacted).
    """
    parsed = urls.parse(url)
    if parsed.backend == "memory":
        from .memory import MemoryEventStore

        return MemoryEventStore(**options)
    if parsed.backend in ("sqlite", "postgresql"):
        from .sql import SQLEventStore, sqlite_is_fresh

        fresh = parsed.backend == "sqlite" and sqlite_is_fresh(url)
        options = {"auto_migrate": fresh, **_float_option(parsed, "poll_interval"), **options}
        return SQLEventStore(url, **options)
    if parsed.backend == "redis":
        try:
            from .redis import RedisEventStore  # type: ignore[import-not-found]
        except ImportError:
            raise StoreConfigurationError(
                f"the Redis backend is not available in this build ({parsed.redacted!r})"
            ) from None
        return RedisEventStore(url, **options)
    raise StoreConfigurationError(f"no backend for {parsed.redacted!r}")  # pragma: no cover


class open_store:
    """Open the event store at ``url``: ``memory://``, ``sqlite:///file.db``,
    ``postgresql://…``, ``redis://…``.

    Await it, or use it as an async context manager (which also closes)::

        store = await open_store("sqlite:///hublog.db")
        async with open_store("postgresql://127.0.0.1/gleitzeit") as store: ...

    A SQLite file that does not exist yet is created and migrated; any other
    database must have been migrated (``hublog db upgrade URL``).

    Raises:
        StoreConfigurationError: unknown scheme or malformed URL.
        SchemaVersionError: the database's schema is missing, older or newer.
        BackendUnavailable: the server did not answer.
    """

    def __init__(self, url: str, **options: Any) -> None:
        self._store = create_store(url, **options)

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
