"""The engine hublog makes (adapters/sql/engine.py): every option it sets is
seen where it takes effect — in psycopg's connection, PostgreSQL's settings,
SQLite's pragmas, the pool's lending — and not only in the arguments passed.
Also: which SQLite errors are retried, when a SQLite file counts as fresh,
and that an engine handed in is left open."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from adapters.sql import SQLEventStore, SQLReadModelStore, create_engine
from adapters.sql.engine import Database, sqlite_is_fresh
from adapters.sql.settings import SQLSettings
from eventstore import BackendError
from tests import services
from tests.eventstore.contract.factories import registered

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"


def pg_url(**query: str) -> str:
    """The test server's URL with ``query`` added to its own."""
    services.need("postgresql", services.postgres_problem())
    base = services.PG_ADMIN_URL
    if not query:
        return base
    return f"{base}{'&' if '?' in base else '?'}{urlencode(query)}"


@contextmanager
def engine_for(url: str) -> Iterator[sa.Engine]:
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def queue_pool(engine: sa.Engine) -> sa.QueuePool:
    assert isinstance(engine.pool, sa.QueuePool)
    return engine.pool


# --- PostgreSQL: what reaches psycopg and the server ------------------------------


@pytest.mark.external_service
def test_a_password_in_the_query_reaches_psycopg_but_stays_out_of_the_engines_url() -> None:
    with engine_for(pg_url(password="s3cret", application_name="hublog-test")) as engine:
        with engine.connect() as conn:
            info = conn.connection.driver_connection.info  # type: ignore[union-attr]
            application_name = conn.exec_driver_sql("SHOW application_name").scalar_one()
        assert info.password == "s3cret"
        assert application_name == "hublog-test"  # the other options still go to the driver
        assert dict(engine.url.query) == {"application_name": "hublog-test"}
        assert "s3cret" not in repr(engine)


@pytest.mark.external_service
@pytest.mark.parametrize(
    ("query", "seconds"),
    [({}, "10"), ({"connect_timeout": "3"}, "3")],
    ids=["hublogs-default", "the-urls-own"],
)
def test_psycopg_connects_with_a_timeout_the_url_may_set(
    query: dict[str, str], seconds: str
) -> None:
    """Without one libpq would wait for an unreachable host as long as the
    kernel lets it; the URL's own value is not overridden."""
    with engine_for(pg_url(**query)) as engine, engine.connect() as conn:
        parameters = conn.connection.driver_connection.info.get_parameters()  # type: ignore[union-attr]
    assert parameters["connect_timeout"] == seconds


@pytest.mark.external_service
def test_every_postgresql_connection_has_bitmap_scans_off() -> None:
    with engine_for(pg_url(pool_size="1")) as engine:
        first, overflow = engine.connect(), engine.connect()
        try:
            settings = [
                c.exec_driver_sql("SHOW enable_bitmapscan").scalar_one() for c in (first, overflow)
            ]
        finally:
            first.close()
            overflow.close()
    assert settings == ["off", "off"]


@pytest.mark.external_service
@pytest.mark.parametrize(("query", "size"), [({}, 10), ({"pool_size": "3"}, 3)])
def test_a_postgresql_pool_keeps_pool_size_connections(query: dict[str, str], size: int) -> None:
    with engine_for(pg_url(**query)) as engine:
        held = [engine.connect() for _ in range(size + 2)]
        for conn in held:
            conn.close()
        assert queue_pool(engine).size() == size
        assert queue_pool(engine).checkedin() == size  # the two beyond it closed on return


@pytest.mark.external_service
def test_a_postgresql_pool_lends_twenty_connections_beyond_its_size_and_then_makes_callers_wait() -> (
    None
):
    """The 22nd borrower of a pool of 1 must wait for a connection to come
    back (up to the pool's 30 s timeout): half a second of it is watched,
    enough for a wrongly granted connection to arrive."""
    with engine_for(pg_url(pool_size="1")) as engine:
        held = [engine.connect() for _ in range(21)]
        got: list[sa.Connection] = []
        borrower = threading.Thread(target=lambda: got.append(engine.connect()))
        try:
            overflow = queue_pool(engine).overflow()
            borrower.start()
            borrower.join(0.5)
            waited = borrower.is_alive()
            held.pop().close()
            borrower.join()
        finally:
            for conn in held + got:
                conn.close()
    assert overflow == 20
    assert waited
    assert len(got) == 1  # given the connection returned


# --- SQLite -------------------------------------------------------------------------


def test_a_sqlite_connection_waits_thirty_seconds_for_a_lock(tmp_path: Path) -> None:
    with (
        engine_for(f"sqlite:///{tmp_path / 'hub.db'}") as engine,
        engine.connect() as conn,
    ):
        busy_timeout = conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
    assert busy_timeout == 30_000  # milliseconds


def test_a_sqlite_error_is_judged_by_the_drivers_message_not_the_statements_parameters(
    tmp_path: Path,
) -> None:
    """SQLAlchemy's own message quotes the parameters: a refused statement
    whose parameter reads "database is locked" is still a refusal."""
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    database = Database.of(SQLSettings.from_url(url))

    def insert() -> None:
        with database.engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO no_such_table VALUES (?)", ("database is locked",))

    try:
        with pytest.raises(BackendError) as caught:
            database.call(insert)
    finally:
        database.engine.dispose()

    assert type(caught.value) is BackendError
    assert isinstance(caught.value.__cause__, sa.exc.OperationalError)
    assert str(caught.value) == f"sqlite at {url} refused the request: no such table: no_such_table"


def _missing(path: Path) -> None:
    pass


def _empty(path: Path) -> None:
    path.touch()


def _one_byte(path: Path) -> None:
    path.write_bytes(b"\0")


def _a_database(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()


@pytest.mark.parametrize(
    ("make", "fresh"),
    [(_missing, True), (_empty, True), (_one_byte, False), (_a_database, False)],
    ids=["missing", "empty", "one-byte", "a-database"],
)
def test_a_sqlite_file_is_fresh_only_when_missing_or_empty(
    tmp_path: Path, make: Callable[[Path], None], fresh: bool
) -> None:
    path = tmp_path / "hub.db"
    make(path)
    assert sqlite_is_fresh(SQLSettings.from_url(f"sqlite:///{path}")) is fresh


# --- an engine handed in ----------------------------------------------------------


async def test_stores_given_an_engine_leave_its_pool_open_on_close(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        pool = queue_pool(engine)
        store = SQLEventStore(engine, auto_migrate=True)
        await store.append(HUB, A, [registered()])
        read_models = SQLReadModelStore(engine)
        await read_models.close()
        await store.close()

        assert engine.pool is pool  # dispose() would have replaced it
        assert pool.checkedin() == 1  # the connection the store used, still pooled
        with engine.connect() as conn:
            events = conn.exec_driver_sql("SELECT count(*) FROM hublog_events").scalar_one()
        assert events == 1
    finally:
        engine.dispose()
