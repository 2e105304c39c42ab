"""What SQLEventStore (adapters/sql/store.py) makes of what it is built from —
a URL, its SQLSettings or an engine, with options and a codec on top — and
the parts of its work the contract suite cannot reach: the server's clock,
PostgreSQL's one-statement append, the schema check under SQLite's write
lock, and an append that gives up when a repaired counter is lowered again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from adapters import open_store
from adapters.sql import SQLEventStore, create_engine, migrations, statements
from adapters.sql import store as store_module
from adapters.sql.settings import SQLSettings
from eventstore import (
    CATALOGUE,
    BackendError,
    BackendUnavailable,
    Codec,
    Event,
    EventStore,
    InvalidEventError,
    SchemaVersionError,
)
from tests.backends import Backend
from tests.eventstore.contract.factories import checks, registered

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A, B = "instance/a", "instance/b"


@pytest.fixture
def sqlite_url(make_url: Callable[[str], str]) -> str:
    return make_url("sqlite")


class Noted(Event, frozen=True, kw_only=True):
    """A type only the custom codec below knows (any stream may hold it)."""

    text: str


def logged_positions(store: SQLEventStore) -> list[int]:
    with store.engine.connect() as conn:
        sql = "SELECT position FROM hublog_events WHERE hub_id = :hub ORDER BY position"
        return list(conn.scalars(sa.text(sql), {"hub": HUB}))


# --- what the store is built from ---------------------------------------------


async def open_with_codec(url: str, codec: Codec) -> EventStore:
    return await open_store(url, codec=codec)


async def build_with_codec(url: str, codec: Codec) -> EventStore:
    store = SQLEventStore(url, codec=codec)
    await store.open()
    return store


@pytest.mark.parametrize("build", [open_with_codec, build_with_codec], ids=["open_store", "class"])
async def test_the_codec_given_is_the_one_the_store_writes_and_reads_with(
    store_url: str, build: Callable[[str, Codec], Any]
) -> None:
    codec = Codec([*CATALOGUE, Noted])
    note = Noted(text="only this codec knows me")

    store = await build(store_url, codec)
    try:
        assert store.codec is codec
        await store.append(HUB, A, [note])
        [recorded] = [e async for e in store.read_log(HUB)]
    finally:
        await store.close()

    assert (recorded.type, recorded.event) == ("Noted", note)


def from_url(url: str, **options: Any) -> SQLEventStore:
    return SQLEventStore(url, **options)


def from_settings(url: str, **options: Any) -> SQLEventStore:
    return SQLEventStore(SQLSettings.from_url(url, max_event_bytes=100_000), **options)


def from_engine(url: str, **options: Any) -> SQLEventStore:
    return SQLEventStore(create_engine(url), **options)


@pytest.mark.parametrize(
    "build", [from_url, from_settings, from_engine], ids=["url", "settings", "engine"]
)
async def test_max_event_bytes_given_beside_what_the_store_is_built_from_limits_its_appends(
    sqlite_url: str, build: Callable[..., SQLEventStore]
) -> None:
    store = build(sqlite_url, max_event_bytes=64)
    try:
        assert (store.settings.max_event_bytes, store.max_event_bytes) == (64, 64)
        with pytest.raises(InvalidEventError, match=r"the limit is 64 \(max_event_bytes\)"):
            await store.append(HUB, A, [registered(name="x" * 100)])
        assert await store.head(HUB) == 0
    finally:
        await store.close()
        if not store.database.owned:
            store.engine.dispose()


@pytest.mark.parametrize(
    "build", [from_url, from_settings, from_engine], ids=["url", "settings", "engine"]
)
async def test_poll_interval_given_beside_what_the_store_is_built_from_is_its_followers(
    sqlite_url: str, build: Callable[..., SQLEventStore]
) -> None:
    store = build(sqlite_url, poll_interval=7.0)
    try:
        assert (store.settings.poll_interval, store.poll_interval) == (7.0, 7.0)
        assert store.follower.poll_interval == 7.0
    finally:
        await store.close()
        if not store.database.owned:
            store.engine.dispose()


async def test_settings_given_with_options_on_top_are_left_as_they_were(sqlite_url: str) -> None:
    settings = SQLSettings.from_url(sqlite_url, poll_interval=3.0)

    store = SQLEventStore(settings, poll_interval=7.0)

    assert (store.settings.poll_interval, settings.poll_interval) == (7.0, 3.0)
    await store.close()


async def test_a_store_built_on_an_engine_keeps_its_url_with_the_password_hidden() -> None:
    """The engine is made already: the store's settings need no secret."""
    engine = sa.create_engine("postgresql+psycopg://hublog:s3cret@db.internal:5432/hub")
    store = SQLEventStore(engine)
    try:
        assert store.settings.url == "postgresql+psycopg://hublog:***@db.internal:5432/hub"
    finally:
        await store.close()
        engine.dispose()


async def test_auto_migrate_false_leaves_a_new_sqlite_file_without_a_schema(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"

    with pytest.raises(SchemaVersionError, match="has no hublog schema"):
        await open_store(url, auto_migrate=False)


async def test_auto_migrate_true_migrates_a_sqlite_file_that_holds_other_tables(
    tmp_path: Path,
) -> None:
    """Such a file is not fresh: without the option it would be refused."""
    path = tmp_path / "shared.db"
    with sa.create_engine(f"sqlite:///{path}").begin() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (text TEXT)")

    async with open_store(f"sqlite:///{path}", auto_migrate=True) as store:
        await store.append(HUB, A, checks(1))
        assert await store.head(HUB) == 1


# --- the clock ------------------------------------------------------------------


class Stopped(datetime):
    """This machine's clock, stopped long ago."""

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return datetime(2001, 1, 1, tzinfo=UTC)


@pytest.mark.external_service
async def test_now_on_postgresql_is_the_servers_clock_not_this_machines(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "datetime", Stopped)
    async with open_store(pg_url) as store:
        assert isinstance(store, SQLEventStore)
        with store.engine.connect() as conn:
            before = conn.execute(sa.select(sa.func.clock_timestamp())).scalar_one()
        now = await store.now()
        with store.engine.connect() as conn:
            after = conn.execute(sa.select(sa.func.clock_timestamp())).scalar_one()

    assert before <= now <= after


async def test_now_is_in_utc_whatever_the_sessions_and_this_machines_zones(
    backend: Backend, make_url: Callable[[str], str], away_from_utc: None
) -> None:
    url = make_url(backend.kind)
    if backend.kind == "postgresql":
        url = f"{url}%20-ctimezone%3DAsia/Kolkata"

    async with open_store(url) as store:
        now = await store.now()

    assert (now.tzinfo, now.utcoffset()) == (UTC, timedelta(0))


# --- PostgreSQL's one-statement append -------------------------------------------


@pytest.mark.external_service
async def test_an_append_on_postgresql_is_sent_as_one_statement(pg_url: str) -> None:
    async with open_store(pg_url) as store:
        assert isinstance(store, SQLEventStore)
        await store.append(HUB, A, checks(2))
        sent: list[str] = []

        def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
            sent.append(sql)

        sa.event.listen(store.engine, "before_cursor_execute", record)
        try:
            result = await store.append(HUB, B, checks(3))
        finally:
            sa.event.remove(store.engine, "before_cursor_execute", record)
        assert (result.version, result.first_position, result.last_position) == (3, 3, 5)
        assert sent == [statements.POSTGRES_APPEND]
        assert logged_positions(store) == [1, 2, 3, 4, 5]


# --- the schema check under SQLite's write lock ----------------------------------


def impatient_engine(url: str) -> sa.Engine:
    """hublog's engine, but a busy database is refused at once (no 30 s wait)."""
    engine = create_engine(url)

    @sa.event.listens_for(engine, "connect")
    def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout = 0")

    return engine


async def test_opening_while_another_connection_migrates_is_unavailable_not_a_wrong_version(
    sqlite_url: str,
) -> None:
    """The schema is checked under the write lock: a check beside a
    migration not yet committed would read the old revision and report it."""
    head = migrations.head_revision()
    script = ScriptDirectory.from_config(migrations._config())
    older = script.get_revision(head).down_revision
    engine = impatient_engine(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = ?", (older,))
    migrating = engine.raw_connection()
    migrating.execute("BEGIN IMMEDIATE")
    migrating.execute("UPDATE alembic_version SET version_num = ?", (head,))
    store = SQLEventStore(engine)
    try:
        with pytest.raises(BackendUnavailable, match="database is locked"):
            await store.open()
        migrating.execute("COMMIT")
        await store.open()  # the retry the error asks for finds the migration done
        await store.append(HUB, A, checks(1))
        assert await store.head(HUB) == 1
    finally:
        migrating.close()
        await store.close()
        engine.dispose()


# --- the repair of lowered counters is tried once ---------------------------------


@contextmanager
def before_every_transaction(
    engine: sa.Engine, fn: Callable[[sa.Connection], None]
) -> Iterator[None]:
    """``fn`` runs as each transaction of ``engine`` starts, before its BEGIN
    (on SQLite hublog's own begin listener issues it: ``fn`` goes first)."""
    issued = list(engine.dispatch.begin)
    for listener in issued:
        sa.event.remove(engine, "begin", listener)
    sa.event.listen(engine, "begin", fn)
    for listener in issued:
        sa.event.listen(engine, "begin", listener)
    try:
        yield
    finally:
        sa.event.remove(engine, "begin", fn)


async def test_an_append_whose_counter_is_lowered_again_after_its_repair_gives_up_with_the_collision(
    store: EventStore,
) -> None:
    """Another writer lowers the hub's head before every transaction of the
    append: raising it once does not help, and the append fails with the
    driver's refusal instead of raising it again."""
    assert isinstance(store, SQLEventStore)
    await store.append(HUB, A, checks(2))
    lowered = 0

    def lower_the_head(_conn: sa.Connection) -> None:
        nonlocal lowered
        raw = store.engine.raw_connection()  # a connection of its own, outside the append's
        try:
            raw.cursor().execute("UPDATE hublog_hubs SET head = 0")
            raw.commit()
        finally:
            raw.close()
        lowered += 1

    with (
        before_every_transaction(store.engine, lower_the_head),
        pytest.raises(BackendError, match="refused the request") as caught,
    ):
        await store.append(HUB, B, checks(1))

    assert type(caught.value) is BackendError
    # Two appends, each followed by its retry lookup, and one repair between
    # them (on PostgreSQL first the one-statement append).
    assert lowered == (6 if store.dialect == "postgresql" else 5)
    assert logged_positions(store) == [1, 2]
