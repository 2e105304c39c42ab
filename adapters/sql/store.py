"""The SQL backend: SQLite (the embedded default) and PostgreSQL, via SQLAlchemy Core.

Drivers: the standard library's ``sqlite3`` and psycopg 3, both synchronous,
each call run in an anyio worker thread.  That keeps the backend independent
of the event loop (it runs under asyncio and trio alike), which SQLAlchemy's
asyncio extension would not.

Gap-free, commit-ordered positions: every append first advances its hub's
head in ``hublog_hubs``, which takes the hub's row lock until commit; see
:mod:`adapters.sql.append`.  A second writer to the same hub waits for that
lock, so it assigns positions only after the first has committed, and a
rollback leaves no gap.  On SQLite ``BEGIN IMMEDIATE`` takes the database's
write lock up front, with the same effect.  The cost: appends to one hub are
serial, one transaction at a time; different hubs proceed in parallel on
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
import sqlalchemy as sa

from eventstore.backend import Expected
from eventstore.codec import Codec
from eventstore.envelope import AppendResult, NewEvent, StoredEvent
from eventstore.store import EventStore

from ..urls import StoreURL
from . import append as sql_append
from . import importing as sql_importing
from . import migrations, repair, rows, statements
from .engine import WRITE, Database, sqlite_is_fresh
from .follow import follower_for
from .readmodels import SQLReadModelStore
from .schema import deleted_events, events, hubs, streams
from .settings import SQLSettings

T = TypeVar("T")


def create_store(url: StoreURL, *, codec: Codec | None = None, **options: Any) -> SQLEventStore:
    """The backend's factory (``adapters.stores``): a SQLite file that does not
    exist yet is created and migrated at open.

    Raises: StoreConfigurationError for a malformed URL or a bad option.
    """
    settings = SQLSettings.from_url(url, **options)
    if "auto_migrate" not in options and settings.dialect == "sqlite":
        settings = replace(settings, auto_migrate=sqlite_is_fresh(settings))
    return SQLEventStore(settings, codec=codec)


class SQLEventStore(EventStore):
    """An event store in SQLite or PostgreSQL.

    Args:
        engine_or_url: an SQLAlchemy Engine (left open by :meth:`close`), a
            store URL (``sqlite:///hublog.db``, ``postgresql://…``) or its
            :class:`SQLSettings`.
        options: any of :class:`SQLSettings`' (``poll_interval``, ``listen``,
            ``change_check_interval``, ``synchronous``, ``auto_migrate``, …),
            overriding the URL's query.

    Raises: StoreConfigurationError for a malformed URL or a bad option.
    """

    def __init__(
        self,
        engine_or_url: sa.Engine | str | SQLSettings,
        *,
        codec: Codec | None = None,
        **options: Any,
    ) -> None:
        settings = _settings(engine_or_url, options)
        kwargs = (
            {}
            if settings.max_event_bytes is None
            else {"max_event_bytes": settings.max_event_bytes}
        )
        super().__init__(codec=codec, **kwargs)
        self.settings = settings
        self.poll_interval = settings.poll_interval
        self.auto_migrate = settings.auto_migrate
        self.database = Database.of(
            engine_or_url if isinstance(engine_or_url, sa.Engine) else settings
        )
        self.engine, self.where, self.dialect = (
            self.database.engine,
            self.database.where,
            self.database.dialect,
        )
        self._ready = False
        self._ready_lock: anyio.Lock | None = None
        # Learns of other processes' appends (adapters/sql/follow.py).
        self.follower = follower_for(self.database, settings)

    def readmodel_store(self) -> SQLReadModelStore:
        """Read models in this store's database, sharing its connection pool
        (closing it leaves this store open); its messages name the
        database as this store's do."""
        return SQLReadModelStore(self.engine, where=self.where)

    # --- lifecycle ------------------------------------------------------------

    async def open(self) -> None:
        """Connect and check (or, with auto_migrate, create) the schema.

        Raises: SchemaVersionError, BackendUnavailable.
        """
        self._check_open()
        if self._ready:
            return
        if self._ready_lock is None:
            self._ready_lock = anyio.Lock()
        async with self._ready_lock:
            if not self._ready:
                await self._in_thread(self._prepare_schema)
                self._ready = True

    def _prepare_schema(self) -> None:
        with self.engine.connect().execution_options(**{WRITE: True}) as conn:
            if self.auto_migrate and migrations.current_revision(conn) is None:
                migrations.upgrade(conn)
            migrations.check(conn, self.where)

    async def close(self) -> None:
        if not self._closed:
            await super().close()
            await anyio.to_thread.run_sync(self.follower.close)
            if self.database.owned:
                await anyio.to_thread.run_sync(self.engine.dispose)

    async def now(self) -> datetime:
        return await self._run(self._now)

    def _now(self) -> datetime:
        if self.dialect == "postgresql":
            with self.engine.connect() as conn:
                value: datetime = conn.execute(sa.select(sa.func.clock_timestamp())).scalar_one()
            return value.astimezone(UTC)
        return datetime.now(UTC)  # SQLite is embedded: its clock is this machine's

    # --- the primitives -------------------------------------------------------

    async def _append(
        self, hub_id: str, stream: str, batch: Sequence[NewEvent], expected: Expected
    ) -> AppendResult:
        return await self._run(self._append_sync, hub_id, stream, batch, expected)

    def _append_sync(
        self, hub_id: str, stream: str, batch: Sequence[NewEvent], expected: Expected
    ) -> AppendResult:
        if self.dialect == "postgresql":
            autocommit = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            with autocommit as conn:
                result = sql_append.append_in_one(conn, hub_id, stream, batch, expected)
            if result is not None:
                return result
        with self.engine.connect().execution_options(**{WRITE: True}) as conn:
            for attempt in (1, 2):
                try:
                    return sql_append.append(conn, hub_id, stream, batch, expected)
                except sa.exc.IntegrityError:
                    # Some event id is in the log already: a retry, or a mistake.
                    retried = sql_append.answer_retry(conn, hub_id, stream, batch)
                    if retried is not None:
                        return retried
                    # Or a counter was lowered behind our back: raise it, once.
                    if attempt == 2 or not repair.raise_counters(conn, hub_id, stream):
                        raise
            raise AssertionError("unreachable")  # pragma: no cover

    async def _import_events(self, hub_id: str, events: Sequence[StoredEvent]) -> int:
        return await self._run(sql_importing.import_events, self.engine, hub_id, events)

    async def _read_stream_page(
        self,
        hub_id: str,
        stream: str,
        *,
        after_version: int,
        before_version: int | None,
        backwards: bool,
        limit: int,
    ) -> Sequence[StoredEvent]:
        bounded = before_version is not None
        sql = statements.select_page(self.dialect, "version", backwards=backwards, bounded=bounded)
        params = (hub_id, stream, after_version, *([before_version] if bounded else []), limit)
        return await self._run(self._select_events, sql, params)

    async def _read_log_page(self, hub_id: str, *, after: int, limit: int) -> Sequence[StoredEvent]:
        sql = statements.select_page(self.dialect, "position")
        return await self._run(self._select_events, sql, (hub_id, after, limit))

    def _select_events(self, sql: str, params: tuple[Any, ...]) -> list[StoredEvent]:
        with self.engine.connect() as conn:
            try:
                found = conn.exec_driver_sql(sql, params).all()
            except sa.exc.DataError:  # psycopg refused a value (an infinite time)
                conn.rollback()
                found = conn.exec_driver_sql(
                    statements.robust_page(self.dialect, sql), params
                ).all()
        try:
            return rows.page(found)
        except (ValueError, TypeError, AttributeError):
            # Some row of this page is damaged: read it row by row, so it
            # becomes a CorruptEvent in its place and the rest reads normally.
            return [rows.stored(row) for row in found]

    async def _stream_version(self, hub_id: str, stream: str) -> int:
        query = sa.select(streams.c.version).where(
            streams.c.hub_id == hub_id, streams.c.stream == stream
        )
        return await self._run(self._scalar, query) or 0

    async def _hubs_with_stream(self, stream: str) -> list[str]:
        query = sa.select(streams.c.hub_id).where(streams.c.stream == stream, streams.c.version > 0)
        return list(await self._run(self._scalars, query))

    async def _position_at(self, hub_id: str, when: datetime) -> int:
        # recorded_at never decreases along positions, so the answer is the
        # highest position at the latest time by then: two index lookups on
        # (hub_id, recorded_at), where max(position) over the range would
        # scan it (0.4 s on a million events).
        latest = (
            sa.select(sa.func.max(events.c.recorded_at))
            .where(events.c.hub_id == hub_id, events.c.recorded_at <= when)
            .scalar_subquery()
        )
        query = sa.select(sa.func.max(events.c.position)).where(
            events.c.hub_id == hub_id, events.c.recorded_at == latest
        )
        return await self._run(self._scalar, query) or 0

    async def _delete_events(
        self, hub_id: str, stream: str, through_version: int, type_name: str
    ) -> int:
        return await self._run(self._delete_sync, hub_id, stream, through_version, type_name)

    def _delete_sync(self, hub_id: str, stream: str, through_version: int, type_name: str) -> int:
        """Move the doomed rows' places to ``hublog_deleted_events`` (so a
        retry of their batch is still answered, adapters/sql/append.py) and
        delete them, under the hub's lock: an append of the same ids waits,
        then finds them deleted, never half-way."""
        doomed = sa.and_(
            events.c.hub_id == hub_id,
            events.c.stream == stream,
            events.c.version <= through_version,
            events.c.type == type_name,
        )
        places = sa.select(
            events.c.hub_id, events.c.event_id, events.c.stream, events.c.version, events.c.position
        ).where(doomed)
        keep = deleted_events.insert().from_select(
            ["hub_id", "event_id", "stream", "version", "position"], places
        )
        with self.engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            lock = hubs.update().where(hubs.c.hub_id == hub_id).values(head=hubs.c.head)
            conn.execute(lock)
            conn.execute(keep)
            return conn.execute(events.delete().where(doomed)).rowcount

    async def _head(self, hub_id: str) -> int:
        return (
            await self._run(self._scalar, sa.select(hubs.c.head).where(hubs.c.hub_id == hub_id))
            or 0
        )

    async def _hubs(self) -> list[str]:
        return await self._run(self._scalars, sa.select(hubs.c.hub_id).where(hubs.c.head > 0))

    def _scalar(self, query: sa.Select[Any]) -> Any:
        with self.engine.connect() as conn:
            return conn.scalar(query)

    def _scalars(self, query: sa.Select[Any]) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.scalars(query))

    async def _wait_for_events(self, hub_id: str, after: int, woken: anyio.Event) -> None:
        await self.follower.wait(hub_id, after, woken)

    # --- plumbing -------------------------------------------------------------

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        self._check_open()
        if not self._ready:
            await self.open()
        return await self._in_thread(fn, *args)

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(self._translated, fn, *args)

    def _translated(self, fn: Callable[..., T], *args: Any) -> T:
        return self.database.call(fn, *args)


def _settings(engine_or_url: sa.Engine | str | SQLSettings, options: dict[str, Any]) -> SQLSettings:
    if isinstance(engine_or_url, SQLSettings):
        return replace(engine_or_url, **options) if options else engine_or_url
    if isinstance(engine_or_url, sa.Engine):
        # The engine's own URL, password hidden: the engine is made already.
        url = engine_or_url.url.render_as_string(hide_password=True)
        return SQLSettings.from_url(url, **options)
    return SQLSettings.from_url(engine_or_url, **options)
