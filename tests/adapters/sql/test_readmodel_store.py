"""The SQL read-model store itself: opened from a URL or beside an event
store's engine, its schema check (on first use, once), what close() releases
and what a closed store says, driver errors as hublog's, and reads and
commits that keep to their own (projection, hub)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.sql import create_engine, migrations
from adapters.sql.readmodels import SQLReadModelStore
from eventstore.errors import BackendError, SchemaVersionError, StoreClosed
from projections import Checkpoint, Commit, ReadModelStore
from projections.readmodel_store import Snapshot
from tests.backends import Backend

pytestmark = pytest.mark.anyio

P, Q = "hub", "health"
H, OTHER = "pool-a", "pool-b"
UNKNOWN_REVISION = "ffffffffffff"


@pytest.fixture
async def sql_storage(storage: ReadModelStore) -> SQLReadModelStore:
    assert isinstance(storage, SQLReadModelStore)
    return storage


@pytest.fixture
async def own_storage(store_url: str) -> AsyncIterator[SQLReadModelStore]:
    """A store opened from the URL: it made its engine, so it disposes of it."""
    async with SQLReadModelStore(store_url) as storage:
        yield storage


def commit(
    hub_id: str,
    after: int,
    position: int,
    *,
    projection: str = P,
    writes: tuple[tuple[str, str, bytes | None], ...] = (),
    snapshot: bytes | None = None,
) -> Commit:
    return Commit(
        projection=projection,
        hub_id=hub_id,
        fingerprint=f"fp:{projection}",
        after=after,
        position=position,
        writes=writes,
        snapshot=snapshot,
    )


@pytest.fixture
def statements(sql_storage: SQLReadModelStore) -> Iterator[list[str]]:
    """Every statement the store's engine sends, in order."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(sql_storage.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(sql_storage.engine, "before_cursor_execute", record)


# --- opening and closing ------------------------------------------------------


def idle_connections(engine: sa.Engine) -> int:
    pool = engine.pool
    assert isinstance(pool, sa.QueuePool)
    return pool.checkedin()


async def test_a_store_opened_from_a_url_commits_and_reads_and_names_the_url(
    own_storage: SQLReadModelStore, store_url: str, backend: Backend
) -> None:
    assert (own_storage.dialect, own_storage.where) == (backend.kind, store_url)
    assert await own_storage.commit(commit(H, 0, 2, writes=(("t", "k", b"v"),))) is True

    assert await own_storage.get(P, H, "t", "k") == b"v"
    assert await own_storage.checkpoint(P, H) == Checkpoint(2, "fp:hub")


async def test_close_disposes_of_the_engine_the_store_made(
    own_storage: SQLReadModelStore,
) -> None:
    await own_storage.checkpoint(P, H)
    assert idle_connections(own_storage.engine) == 1  # the connection went back to the pool

    await own_storage.close()

    assert idle_connections(own_storage.engine) == 0


async def test_close_leaves_open_the_engine_the_store_was_given(
    sql_storage: SQLReadModelStore,
) -> None:
    await sql_storage.checkpoint(P, H)

    await sql_storage.close()

    with sql_storage.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1


async def test_a_closed_store_refuses_every_call_naming_where_it_was(
    own_storage: SQLReadModelStore, store_url: str
) -> None:
    await own_storage.close()
    await own_storage.close()  # idempotent

    message = f"SQLReadModelStore at {store_url} is closed"
    with pytest.raises(StoreClosed) as got:
        await own_storage.checkpoint(P, H)
    assert str(got.value) == message
    with pytest.raises(StoreClosed) as got:
        await own_storage.commit(commit(H, 0, 1))
    assert str(got.value) == message


# --- the schema check -----------------------------------------------------------


def set_revision(store_url: str, revision: str) -> None:
    engine = create_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    finally:
        engine.dispose()


async def test_the_first_call_refuses_a_database_of_a_newer_schema_naming_it(
    store_url: str,
) -> None:
    set_revision(store_url, UNKNOWN_REVISION)

    async with SQLReadModelStore(store_url) as storage:
        with pytest.raises(SchemaVersionError) as got:
            await storage.checkpoint(P, H)

    assert str(got.value) == (
        f"database {store_url} is at schema revision {UNKNOWN_REVISION}, which this "
        f"hublog ({migrations.head_revision()}) does not know: it was migrated by a "
        "newer hublog; upgrade hublog to open it"
    )


async def test_the_schema_is_checked_on_the_first_call_only(
    sql_storage: SQLReadModelStore, statements: list[str]
) -> None:
    """One check per store, not a round trip per call."""
    await sql_storage.get(P, H, "t", "k")
    checks_at_first = sum("alembic_version" in s for s in statements)
    statements.clear()

    await sql_storage.get(P, H, "t", "k")
    await sql_storage.commit(commit(H, 0, 1))

    assert checks_at_first >= 1
    assert [s for s in statements if "alembic_version" in s] == []


# --- errors ----------------------------------------------------------------------

NO_ROWS_TABLE = {
    "sqlite": "no such table: hublog_readmodel_rows",
    "postgresql": 'relation "hublog_readmodel_rows" does not exist',
}


async def test_a_driver_error_after_the_check_is_a_backend_error_naming_the_database(
    sql_storage: SQLReadModelStore, backend: Backend
) -> None:
    await sql_storage.checkpoint(P, H)  # the schema is checked, and found right
    with sql_storage.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE hublog_readmodel_rows")

    with pytest.raises(BackendError) as got:
        await sql_storage.scan(P, H, "t")

    assert type(got.value) is BackendError  # a refusal, not "unavailable": never retried
    assert str(got.value) == (
        f"{backend.kind} at {sql_storage.where} refused the request: {NO_ROWS_TABLE[backend.kind]}"
    )


# --- keeping to one model --------------------------------------------------------


async def test_a_commit_moves_only_its_own_projections_checkpoint(
    sql_storage: SQLReadModelStore,
) -> None:
    await sql_storage.commit(commit(H, 0, 3, projection=P))
    await sql_storage.commit(commit(H, 0, 5, projection=Q))

    assert await sql_storage.checkpoint(P, H) == Checkpoint(3, "fp:hub")
    assert await sql_storage.checkpoint(Q, H) == Checkpoint(5, "fp:health")


async def test_snapshot_is_the_latest_of_its_own_projection_and_hub(
    sql_storage: SQLReadModelStore,
) -> None:
    await sql_storage.commit(commit(H, 0, 2, snapshot=b"hub@2"))
    await sql_storage.commit(commit(H, 2, 4, snapshot=b"hub@4"))
    await sql_storage.commit(commit(H, 0, 6, projection=Q, snapshot=b"health@6"))
    await sql_storage.commit(commit(OTHER, 0, 8, snapshot=b"other@8"))

    assert await sql_storage.snapshot(P, H) == Snapshot(4, "fp:hub", b"hub@4")
    assert await sql_storage.snapshot(P, H, at_or_before=3) == Snapshot(2, "fp:hub", b"hub@2")
    assert await sql_storage.snapshot(Q, H) == Snapshot(6, "fp:health", b"health@6")
    assert await sql_storage.snapshot(P, OTHER, at_or_before=7) is None


@pytest.fixture
def unordered_url(backend: Backend, make_url: Callable[[str], str]) -> str:
    """Fresh data; on PostgreSQL sessions that neither walk an index nor sort
    unless told to, so DISTINCT hashes and no order comes from the plan."""
    url = make_url(backend.kind)
    if backend.kind == "postgresql":
        url += "%20-cenable_indexscan%3Doff%20-cenable_indexonlyscan%3Doff%20-cenable_sort%3Doff"
    return url


async def test_tables_lists_each_table_once_in_order_whatever_order_it_was_written_in(
    unordered_url: str,
) -> None:
    names = [f"table-{n:02}" for n in range(16)]
    async with SQLReadModelStore(unordered_url) as storage:
        writes = tuple((t, k, b"v") for t in reversed(names) for k in ("k1", "k2"))
        await storage.commit(commit(H, 0, 1, writes=writes))
        await storage.commit(commit(OTHER, 0, 1, writes=(("elsewhere", "k", b"v"),)))

        assert await storage.tables(P, H) == names
