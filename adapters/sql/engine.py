"""What every SQL-backed part of hublog shares: its engine (set up for
hublog's transactions), and how driver errors become hublog's (the event
store and the read-model store alike)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from eventstore.errors import BackendError, BackendUnavailable

from ..urls import is_secret_option, redact
from .rows import tolerate_infinity
from .settings import SQLSettings

T = TypeVar("T")

WRITE = "hublog_write"
"""Execution option: this transaction will write (on SQLite: BEGIN IMMEDIATE)."""


@dataclass(frozen=True)
class Database:
    """An engine, whether we made it (and so dispose of it), and its name for messages."""

    engine: sa.Engine
    owned: bool
    where: str

    @classmethod
    def of(cls, engine_or_settings: sa.Engine | SQLSettings) -> Database:
        if isinstance(engine_or_settings, sa.Engine):
            engine = engine_or_settings
            return cls(engine, False, redact(engine.url.render_as_string(hide_password=False)))
        return cls(create_engine(engine_or_settings), True, engine_or_settings.redacted)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, the one place SQL driver errors become hublog's:
        "not reachable now" becomes BackendUnavailable (retried by callers),
        anything else BackendError (a refusal retrying won't cure).

        A pooled connection found dead (the server restarted, an idle
        connection cut) is tried once more on a fresh one: the pool then
        needs no ping round trip before every call.  Safe because every call
        is: reads change nothing, an append recognises its own event ids, a
        read-model commit its own checkpoint.
        """
        for attempt in (1, 2):
            try:
                return fn(*args)
            except sa.exc.SQLAlchemyError as exc:
                if attempt == 1 and _found_dead(exc):
                    continue
                if self.is_transient(exc):
                    raise self.unavailable(exc) from exc
                raise self.refused(exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def is_transient(self, exc: sa.exc.SQLAlchemyError) -> bool:
        if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
            return True
        if isinstance(exc, sa.exc.InterfaceError | sa.exc.TimeoutError):
            return True
        if isinstance(exc, sa.exc.OperationalError):
            if self.dialect != "sqlite":
                return True  # psycopg: the server gone, a cancel, a lock or serialization timeout
            # sqlite3 says "operational" for a busy file and a syntax error
            # alike: only what waiting can cure is worth a retry.
            text = str(getattr(exc, "orig", exc)).lower()
            return any(m in text for m in _SQLITE_TRANSIENT)
        return False

    def refused(self, exc: sa.exc.SQLAlchemyError) -> BackendError:
        return BackendError(f"{self.dialect} at {self.where} refused the request: {_reason(exc)}")

    def unavailable(self, exc: sa.exc.SQLAlchemyError) -> BackendUnavailable:
        return BackendUnavailable(f"{self.dialect} at {self.where}: {_reason(exc)}")


def _found_dead(exc: sa.exc.SQLAlchemyError) -> bool:
    """A disconnect SQLAlchemy noticed: it invalidated the pool, so the next
    checkout connects afresh."""
    return isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated


# SQLite errors that pass: another connection holds the lock, the disk or
# the directory is briefly unusable.  Everything else sqlite3 calls
# "operational" (a damaged or foreign file, a missing table, a syntax error)
# stays as it is however often it is tried.
_SQLITE_TRANSIENT = (
    "database is locked",
    "database table is locked",
    "database schema is locked",
    "disk i/o error",
    "unable to open database file",
    "database or disk is full",
)


def _reason(exc: sa.exc.SQLAlchemyError) -> str:
    """The driver's own first line (never SQLAlchemy's, which may quote parameters)."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__


def create_engine(url_or_settings: str | SQLSettings) -> sa.Engine:
    """An engine for a store URL (or its settings), set up for hublog's transactions.

    Raises: StoreConfigurationError for a malformed or non-SQL URL or a bad option.
    """
    settings = (
        url_or_settings
        if isinstance(url_or_settings, SQLSettings)
        else SQLSettings.from_url(url_or_settings)
    )
    sa_url = settings.sqlalchemy_url()
    if settings.dialect == "postgresql":
        # Secrets given in the query (?password=, ?sslpassword=) go to psycopg
        # as keywords, so the engine's URL (and its repr) never holds them.
        secrets = {k: v for k, v in sa_url.query.items() if is_secret_option(k)}
        sa_url = sa_url.set(query={k: v for k, v in sa_url.query.items() if k not in secrets})
        args: dict[str, Any] = {**secrets}
        if "connect_timeout" not in sa_url.query:
            args["connect_timeout"] = 10
        # No pool_pre_ping: a dead connection is retried in Database.call instead.
        engine = sa.create_engine(
            sa_url, pool_size=settings.pool_size, max_overflow=20, connect_args=args
        )
        sa.event.listen(engine, "connect", lambda dbapi, _record: _configure_postgres(dbapi))
        return engine
    engine = sa.create_engine(sa_url, connect_args={"timeout": 30, "check_same_thread": False})
    _configure_sqlite(engine, None if settings.read_only else settings.synchronous)
    return engine


def _configure_postgres(dbapi_connection: Any) -> None:
    """Per connection, once: a page of events is a walk along the primary key
    or the stream index, but on a table filled faster than autovacuum
    analyses it the planner guesses a few dozen rows and picks a bitmap scan
    plus a sort of the hub's whole tail (5x slower reads).  hublog's queries
    are all key walks, so bitmap scans are off for its connections (set at
    connect, not per page: no round trip per read)."""
    tolerate_infinity(dbapi_connection)
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET enable_bitmapscan = off")
    dbapi_connection.commit()


def _configure_sqlite(engine: sa.Engine, synchronous: str | None) -> None:
    """WAL for readers beside a writer; BEGIN IMMEDIATE for writes, so a
    writer holds the write lock from its first statement (no upgrade
    deadlocks between processes, and busy_timeout applies).  Read-only
    (``synchronous`` None) the file is left in the mode it is in."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        if synchronous is not None:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute(f"PRAGMA synchronous={synchronous}")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def sqlite_is_fresh(settings: SQLSettings) -> bool:
    """True when the SQLite file of ``settings`` does not exist yet or is empty."""
    database = settings.sqlalchemy_url().database or ""
    path = Path(database)
    return not path.exists() or path.stat().st_size == 0
