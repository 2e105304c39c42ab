"""Which driver errors become BackendUnavailable (retried by callers) and
which BackendError (a refusal retrying won't cure), and what the message
says: ``<dialect> at <where>: <the driver's own first line>``.

Every error here is produced by a real server or a real SQLite file, except
one: a driver error with an empty message, which no server sends on demand
(its test says so).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from adapters.sql import SQLEventStore, create_engine
from adapters.sql.engine import Database
from adapters.sql.settings import SQLSettings
from eventstore import BackendError, BackendUnavailable
from tests.eventstore.contract.factories import registered
from tests.servers import free_port

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    """A SQLite file with one table of notes."""
    path = tmp_path / "notes.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT NOT NULL)")
    conn.close()
    return path


@pytest.fixture
def sqlite_engine(sqlite_file: Path) -> Iterator[sa.Engine]:
    """An engine on ``sqlite_file`` that waits for no lock (timeout 0)."""
    engine = sa.create_engine(f"sqlite:///{sqlite_file}", connect_args={"timeout": 0})
    yield engine
    engine.dispose()


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[Database]:
    database = Database.of(SQLSettings.from_url(pg_url))
    yield database
    database.engine.dispose()


def counted(fn: Callable[[], Any]) -> tuple[Callable[[], Any], list[int]]:
    """``fn`` and the list its calls are counted in."""
    calls: list[int] = []

    def call() -> Any:
        calls.append(1)
        return fn()

    return call, calls


def failure(database: Database, fn: Callable[[], Any]) -> Exception:
    """The hublog error ``database.call(fn)`` raises."""
    with pytest.raises((BackendError, BackendUnavailable)) as caught:
        database.call(fn)
    return caught.value


# --- SQLite ----------------------------------------------------------------------


async def test_a_table_missing_from_a_sqlite_file_is_refused_with_the_drivers_message(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hublog.db"
    async with SQLEventStore(f"sqlite:///{path}", auto_migrate=True) as store:
        await store.append(HUB, A, [registered()])
        with sqlite3.connect(path) as conn:  # a broken tool, or the wrong file
            conn.execute("DROP TABLE hublog_events")
        conn.close()

        with pytest.raises(BackendError) as caught:
            [e async for e in store.read_log(HUB)]

    assert type(caught.value) is BackendError
    assert str(caught.value) == (
        f"sqlite at sqlite:///{path} refused the request: no such table: hublog_events"
    )


def test_a_sqlite_write_lock_held_elsewhere_is_unavailable_whatever_the_parameters_say(
    sqlite_file: Path, sqlite_engine: sa.Engine
) -> None:
    """The damage markers are looked for in the driver's message only: a
    parameter that happens to contain one ("malformed") does not turn a
    held lock into a refusal."""
    database = Database.of(sqlite_engine)
    holder = sqlite3.connect(sqlite_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:

        def insert() -> None:
            with sqlite_engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO notes VALUES (?)", ("a malformed note",))

        error = failure(database, insert)
    finally:
        holder.rollback()
        holder.close()

    assert type(error) is BackendUnavailable
    assert str(error) == f"sqlite at sqlite:///{sqlite_file}: database is locked"


def test_a_refused_sqlite_statement_is_tried_once_with_the_drivers_message(
    sqlite_file: Path, sqlite_engine: sa.Engine
) -> None:
    def no_body() -> None:
        with sqlite_engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO notes VALUES (NULL)")

    fn, calls = counted(no_body)
    error = failure(Database.of(sqlite_engine), fn)

    assert type(error) is BackendError
    assert str(error) == (
        f"sqlite at sqlite:///{sqlite_file} refused the request: "
        "NOT NULL constraint failed: notes.body"
    )
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("SELEC 1", 'near "SELEC": syntax error'),
        ("SELECT * FROM no_such_table", "no such table: no_such_table"),
    ],
)
def test_a_sqlite_error_waiting_cannot_cure_is_refused_though_sqlite_calls_it_operational(
    sqlite_file: Path, sqlite_engine: sa.Engine, statement: str, message: str
) -> None:
    def run() -> None:
        with sqlite_engine.connect() as conn:
            conn.exec_driver_sql(statement)

    fn, calls = counted(run)
    error = failure(Database.of(sqlite_engine), fn)

    assert type(error) is BackendError and isinstance(error.__cause__, sa.exc.OperationalError)
    assert str(error) == f"sqlite at sqlite:///{sqlite_file} refused the request: {message}"
    assert len(calls) == 1


def test_a_pooled_connection_found_dead_is_tried_once_more_on_a_fresh_one(
    sqlite_engine: sa.Engine,
) -> None:
    def read() -> int:
        with sqlite_engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM notes").scalar_one())

    first = True

    def dies_once() -> int:
        nonlocal first
        if first:
            first = False
            with sqlite_engine.connect() as conn:
                conn.connection.dbapi_connection.close()  # type: ignore[union-attr]
                conn.exec_driver_sql("SELECT 1")
        return read()

    fn, calls = counted(dies_once)
    assert Database.of(sqlite_engine).call(fn) == 0
    assert len(calls) == 2


def test_a_connection_that_dies_again_on_the_fresh_try_is_unavailable(
    sqlite_file: Path, sqlite_engine: sa.Engine
) -> None:
    """sqlite3 reports a closed connection as a ProgrammingError, which
    SQLAlchemy marks as a disconnect: unavailable, not a refusal."""

    def dies() -> None:
        with sqlite_engine.connect() as conn:
            conn.connection.dbapi_connection.close()  # type: ignore[union-attr]
            conn.exec_driver_sql("SELECT 1")

    fn, calls = counted(dies)
    error = failure(Database.of(sqlite_engine), fn)

    assert type(error) is BackendUnavailable
    assert str(error) == (
        f"sqlite at sqlite:///{sqlite_file}: Cannot operate on a closed database."
    )
    assert len(calls) == 2


def test_an_exhausted_connection_pool_is_unavailable_with_sqlalchemys_message(
    sqlite_file: Path,
) -> None:
    """A pool timeout is SQLAlchemy's own error (no driver error inside):
    its message is quoted."""
    engine = sa.create_engine(
        f"sqlite:///{sqlite_file}", pool_size=1, max_overflow=0, pool_timeout=0.05
    )
    held = engine.connect()
    try:
        error = failure(Database.of(engine), engine.connect)
    finally:
        held.close()
        engine.dispose()

    assert type(error) is BackendUnavailable
    assert re.fullmatch(
        rf"sqlite at sqlite:///{re.escape(str(sqlite_file))}: QueuePool limit of "
        r"size 1 overflow 0 reached, connection timed out, timeout 0\.05 "
        r"\(Background on this error at: https://sqlalche\.me/e/\d+/3o7r\)",
        str(error),
    ), str(error)


# --- PostgreSQL --------------------------------------------------------------------


@pytest.mark.external_service
def test_a_closed_postgresql_port_is_unavailable_with_the_drivers_first_line() -> None:
    port = free_port()
    url = f"postgresql://hublog:s3cret@127.0.0.1:{port}/nowhere?connect_timeout=2"
    database = Database.of(SQLSettings.from_url(url))
    try:
        error = failure(database, database.engine.connect)
    finally:
        database.engine.dispose()

    assert type(error) is BackendUnavailable
    assert str(error) == (
        f"postgresql at postgresql://hublog:***@127.0.0.1:{port}/nowhere?connect_timeout=2: "
        f'connection failed: connection to server at "127.0.0.1", port {port} failed: '
        "Connection refused"
    )


def test_a_statement_cancelled_by_statement_timeout_is_unavailable(
    pg_url: str, pg_database: Database
) -> None:
    def slow() -> None:
        with pg_database.engine.connect() as conn:
            conn.exec_driver_sql("SET statement_timeout = 50")
            conn.exec_driver_sql("SELECT pg_sleep(5)")

    error = failure(pg_database, slow)

    assert type(error) is BackendUnavailable
    assert str(error) == (f"postgresql at {pg_url}: canceling statement due to statement timeout")


def test_a_serialization_failure_is_unavailable(pg_url: str, pg_database: Database) -> None:
    with pg_database.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO hublog_hubs (hub_id, head) VALUES ('h', 1)")

    def lost_race() -> None:
        repeatable = pg_database.engine.connect().execution_options(
            isolation_level="REPEATABLE READ"
        )
        with repeatable as conn, conn.begin():
            conn.exec_driver_sql("SELECT head FROM hublog_hubs WHERE hub_id = 'h'")
            with pg_database.engine.begin() as other:  # commits in between
                other.exec_driver_sql("UPDATE hublog_hubs SET head = 2 WHERE hub_id = 'h'")
            conn.exec_driver_sql("UPDATE hublog_hubs SET head = 3 WHERE hub_id = 'h'")

    error = failure(pg_database, lost_race)

    assert type(error) is BackendUnavailable
    assert str(error) == (
        f"postgresql at {pg_url}: could not serialize access due to concurrent update"
    )


def test_a_lock_wait_cut_by_lock_timeout_is_unavailable(pg_url: str, pg_database: Database) -> None:
    with pg_database.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO hublog_hubs (hub_id, head) VALUES ('h', 1)")
    holder = pg_database.engine.connect()
    holder.begin()
    holder.exec_driver_sql("SELECT head FROM hublog_hubs WHERE hub_id = 'h' FOR UPDATE")
    waited = threading.Event()

    def blocked() -> None:
        waited.set()
        with pg_database.engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL lock_timeout = 50")
            conn.exec_driver_sql("UPDATE hublog_hubs SET head = 2 WHERE hub_id = 'h'")

    try:
        error = failure(pg_database, blocked)
    finally:
        holder.rollback()
        holder.close()

    assert waited.is_set()
    assert type(error) is BackendUnavailable
    assert str(error) == f"postgresql at {pg_url}: canceling statement due to lock timeout"


def test_a_refused_postgresql_statement_is_tried_once_and_quoted_by_its_first_line(
    pg_url: str, pg_database: Database
) -> None:
    def duplicate() -> None:
        with pg_database.engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO hublog_hubs (hub_id, head) VALUES ('h', 1)")
            conn.exec_driver_sql("INSERT INTO hublog_hubs (hub_id, head) VALUES ('h', 2)")

    fn, calls = counted(duplicate)
    error = failure(pg_database, fn)

    assert type(error) is BackendError
    # psycopg's message goes on with "DETAIL:  Key (hub_id)=(h) already exists."
    assert str(error) == (
        f"postgresql at {pg_url} refused the request: "
        'duplicate key value violates unique constraint "hublog_hubs_pkey"'
    )
    assert len(calls) == 1


def test_a_driver_error_with_no_message_is_named_by_its_class() -> None:
    """Built by hand: no server sends an error with an empty message on
    demand, and this is the pure wording of :meth:`Database.unavailable`
    and :meth:`Database.refused`."""
    database = Database.of(create_engine("postgresql://hublog@127.0.0.1:1/nowhere"))
    wrapped = sa.exc.OperationalError("SELECT 1", None, psycopg.OperationalError())
    refusal = sa.exc.IntegrityError("INSERT INTO t VALUES (1)", None, psycopg.IntegrityError())
    try:
        assert str(database.unavailable(wrapped)) == (
            "postgresql at postgresql+psycopg://hublog@127.0.0.1:1/nowhere: OperationalError"
        )
        assert str(database.refused(refusal)) == (
            "postgresql at postgresql+psycopg://hublog@127.0.0.1:1/nowhere refused the request: "
            "IntegrityError"
        )
    finally:
        database.engine.dispose()
