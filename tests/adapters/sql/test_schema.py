"""The read-model tables: migration 0002 makes exactly what adapters/sql_readmodels.py queries."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from adapters import open_store
from adapters.sql import create_engine, migrations
from adapters.sql.schema import checkpoints, metadata, rows, snapshots
from alembic import command

MINE = {checkpoints.name, rows.name, snapshots.name}

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, make_url: Callable[[str], str]) -> str:
    return make_url(request.param)


def tables(conn: sa.Connection) -> set[str]:
    return set(sa.inspect(conn).get_table_names())


async def test_migration_0002_makes_exactly_the_read_model_tables(url: str) -> None:
    async with open_store(url):  # migrates a fresh SQLite file; PostgreSQL comes migrated
        pass
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert MINE <= tables(conn)
            # sql_readmodels declares its tables on the event log's metadata
            diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()

    assert diffs == []


async def test_migration_0002_goes_down_and_up_again(url: str) -> None:
    async with open_store(url):
        pass
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            config = Config()
            config.set_main_option("script_location", str(migrations.script_location()))
            config.attributes["connection"] = conn
            command.downgrade(config, "0001")
            conn.commit()
            assert not MINE & tables(conn)
            migrations.upgrade(conn)
            assert MINE <= tables(conn)
            assert migrations.current_revision(conn) == migrations.head_revision()
    finally:
        engine.dispose()
