"""SQL-only behaviour: the schema is the migrations', revision checks, faults, errors."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from adapters import open_store
from adapters.sql import SQLEventStore, create_engine, migrations
from adapters.sql.schema import metadata
from eventstore import BackendUnavailable, SchemaVersionError, StoreConfigurationError
from tests import services
from tests.eventstore.contract.factories import checks, registered

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, make_url: Callable[[str], str]) -> str:
    return make_url(request.param)


async def test_the_migrations_make_exactly_the_tables_the_code_queries(url: str) -> None:
    async with open_store(url):  # migrates a fresh SQLite file; PostgreSQL comes migrated
        pass
    engine = create_engine(url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()

    assert diffs == []


async def test_a_fresh_sqlite_file_is_created_and_migrated(tmp_path: Path) -> None:
    path = tmp_path / "new" / "hublog.db"
    path.parent.mkdir()

    async with open_store(f"sqlite:///{path}") as store:
        await store.append(HUB, A, [registered()])

    assert path.exists()
    assert sqlite3.connect(path).execute("select version_num from alembic_version").fetchone() == (
        migrations.head_revision(),
    )


async def test_a_relative_sqlite_path_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    async with open_store("sqlite:///relative.db") as store:
        await store.append(HUB, A, [registered()])

    assert (tmp_path / "relative.db").exists()


async def test_an_existing_sqlite_file_without_the_schema_is_not_migrated_silently(
    tmp_path: Path,
) -> None:
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("create table something_else (x int)").connection.commit()

    with pytest.raises(SchemaVersionError) as caught:
        await open_store(f"sqlite:///{path}")

    assert "has no hublog schema" in str(caught.value)
    assert f"hublog db upgrade sqlite:///{path}" in str(caught.value)


@pytest.mark.external_service
async def test_a_postgresql_database_without_the_schema_names_what_to_run(tmp_path: Path) -> None:
    services.need("postgresql", services.postgres_problem())
    import psycopg

    with psycopg.connect(services.PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS hublog_test_empty")
    url = f"{services.PG_ADMIN_URL}?options=-csearch_path%3Dhublog_test_empty"
    try:
        with pytest.raises(
            SchemaVersionError, match=r"has no hublog schema: run `hublog db upgrade"
        ):
            await open_store(url)
    finally:
        with psycopg.connect(services.PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute("DROP SCHEMA hublog_test_empty CASCADE")


async def test_a_database_from_a_newer_hublog_is_refused(url: str) -> None:
    async with open_store(url):
        pass
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("update alembic_version set version_num = '9999'"))
    engine.dispose()

    with pytest.raises(
        SchemaVersionError, match="revision 9999, which this hublog .* does not know"
    ):
        await open_store(url)


async def test_a_fault_inside_the_append_transaction_leaves_nothing(url: str) -> None:
    engine = create_engine(url)
    async with SQLEventStore(engine, auto_migrate=True) as store:
        await store.append(HUB, A, [registered()])

        @sa.event.listens_for(engine, "before_cursor_execute")
        def fail_at_event_insert(conn, cursor, statement, *args) -> None:
            # by now the head and the stream version have been advanced
            if statement.lstrip().upper().startswith("INSERT INTO HUBLOG_EVENTS"):
                raise RuntimeError("injected fault after head and version were advanced")

        with pytest.raises(RuntimeError, match="injected fault"):
            await store.append(HUB, A, checks(3))
        sa.event.remove(engine, "before_cursor_execute", fail_at_event_insert)

        assert await store.head(HUB) == 1
        assert await store.stream_version(HUB, A) == 1
        assert [e.position async for e in store.read_log(HUB)] == [1]
        assert (await store.append(HUB, A, checks(1))).positions == range(2, 3)
    engine.dispose()


async def test_an_unreachable_server_is_backend_unavailable_with_the_password_hidden() -> None:
    url = "postgresql://hublog:s3cret@127.0.0.1:1/nowhere?connect_timeout=2"

    with pytest.raises(BackendUnavailable) as caught:
        await open_store(url)

    assert "s3cret" not in str(caught.value)
    assert "127.0.0.1:1" in str(caught.value)


async def test_a_bad_synchronous_option_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreConfigurationError, match="synchronous") as caught:
        await open_store(f"sqlite:///{tmp_path / 'x.db'}?synchronous=sometimes")
    assert "option synchronous='sometimes' must be one of off, normal, full, extra" in str(
        caught.value
    )
    with pytest.raises(StoreConfigurationError, match="option synchronous=3 must be one of"):
        open_store(f"sqlite:///{tmp_path / 'x.db'}", synchronous=3)  # a keyword too


SQLITE_SYNCHRONOUS = {"off": 0, "normal": 1, "full": 2, "extra": 3}
"""What ``PRAGMA synchronous`` reads back for each setting."""


def synchronous_of(store: object) -> list[int]:
    """``PRAGMA synchronous`` on two pooled connections at once (each is set on connect)."""
    assert isinstance(store, SQLEventStore)
    with store.engine.connect() as first, store.engine.connect() as second:
        return [c.exec_driver_sql("PRAGMA synchronous").scalar_one() for c in (first, second)]


@pytest.mark.parametrize("value", [*SQLITE_SYNCHRONOUS, "NORMAL"])
async def test_the_synchronous_option_of_the_url_sets_the_pragma(
    tmp_path: Path, value: str
) -> None:
    async with open_store(f"sqlite:///{tmp_path / 'x.db'}?synchronous={value}") as store:
        await store.append("h", "instance/a", [registered()])
        assert synchronous_of(store) == [SQLITE_SYNCHRONOUS[value.lower()]] * 2


async def test_synchronous_is_full_unless_set_and_a_keyword_wins_over_the_url(
    tmp_path: Path,
) -> None:
    async with open_store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        assert synchronous_of(store) == [SQLITE_SYNCHRONOUS["full"]] * 2
    url = f"sqlite:///{tmp_path / 'b.db'}?synchronous=off"
    async with open_store(url, synchronous="normal") as store:
        assert synchronous_of(store) == [SQLITE_SYNCHRONOUS["normal"]] * 2


def test_alembic_upgrade_head_from_the_repo_root_takes_the_url_from_the_environment(
    tmp_path: Path,
) -> None:
    database = tmp_path / "by-alembic.db"
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=Path(__file__).resolve().parents[3],
        env={**os.environ, "HUBLOG_URL": f"sqlite:///{database}"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert sqlite3.connect(database).execute(
        "select version_num from alembic_version"
    ).fetchone() == (migrations.head_revision(),)
