"""A log written at schema revision 0002, before the append became one
statement (migration 0003's hublog_advance), keeps working after
``hublog db upgrade``: its events read back the same, appends continue its
positions and versions, a retry of an old batch is still recognised, and a
conflict is still refused.  One written at 0003, before deleted ids were
kept (0004), gains that: a sample deleted after the upgrade is still known,
so appending its batch again is answered as a retry.  One at 0004 stops
stamping new events with a damaged last time past year 9999 (0005)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import uuid4

import pytest
import sqlalchemy as sa
from alembic.config import Config
from msgspec.structs import replace

from adapters import open_store
from adapters.sql import create_engine, migrations
from adapters.sql.schema import events, hubs, streams
from alembic import command
from eventstore import DEFAULT_CODEC, WrongExpectedVersion
from tests.eventstore.contract.factories import checks, registered, sampled

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, make_url: Callable[[str], str]) -> str:
    return make_url(request.param)


def downgrade(conn: sa.Connection, revision: str) -> None:
    """The database on ``conn`` migrated down to ``revision`` (committed)."""
    config = Config()
    config.set_main_option("script_location", str(migrations.script_location()))
    config.attributes["connection"] = conn
    command.downgrade(config, revision)
    conn.commit()


def downgrade_to(url: str, revision: str, batch: list, stream: str = A) -> None:
    """The database at ``revision`` with ``batch`` written as that era did,
    then upgraded to this hublog's head."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            downgrade(conn, revision)
            write_as_revision_0002(conn, batch, stream)
            conn.commit()
            migrations.upgrade(conn)
            assert migrations.current_revision(conn) == migrations.head_revision()
    finally:
        engine.dispose()


def write_as_revision_0002(conn: sa.Connection, batch: list, stream: str = A) -> None:
    """Rows exactly as the 0002-era append wrote them: SQLAlchemy Core with
    the schema's column types, uuid4 ids, every event of the batch at one time."""
    at = datetime(2026, 11, 27, 12, 0, 0, 123456, tzinfo=UTC)
    conn.execute(hubs.insert().values(hub_id=HUB, head=len(batch)))
    conn.execute(streams.insert().values(hub_id=HUB, stream=stream, version=len(batch)))
    for n, event in enumerate(batch, start=1):
        encoded = DEFAULT_CODEC.encode(event)
        conn.execute(
            events.insert().values(
                hub_id=HUB, position=n, stream=stream, version=n, event_id=encoded.event_id,
                type=encoded.type, schema_version=encoded.schema_version, data=encoded.data,
                recorded_at=at, correlation_id=None, causation_id=None,
            )
        )  # fmt: skip


async def test_a_log_written_at_revision_0002_works_after_the_upgrade(url: str) -> None:
    async with open_store(url):  # migrated to head
        pass
    # uuid4 ids, as events made before UUIDv7 carry
    old_batch = [replace(e, event_id=uuid4()) for e in [registered(), *checks(2)]]
    downgrade_to(url, "0002", old_batch)

    async with open_store(url) as store:
        log = [e async for e in store.read_log(HUB)]
        assert [(e.position, e.version) for e in log] == [(1, 1), (2, 2), (3, 3)]
        assert [e.event for e in log] == old_batch
        assert all(e.recorded_at == datetime(2026, 11, 27, 12, 0, 0, 123456, tzinfo=UTC)
                   for e in log)  # fmt: skip
        assert await store.position_at(HUB, log[0].recorded_at) == 3

        retried = await store.append(HUB, A, old_batch)
        assert (retried.version, list(retried.positions)) == (3, [1, 2, 3])
        with pytest.raises(WrongExpectedVersion):
            await store.append(HUB, A, checks(1), expected_version=2)
        new = await store.append(HUB, A, checks(2), expected_version=3)
        assert (new.version, list(new.positions)) == (5, [4, 5])
        assert [e.position async for e in store.read_stream(HUB, A)] == [1, 2, 3, 4, 5]


async def test_a_log_written_at_revision_0003_keeps_deleted_samples_known_after_the_upgrade(
    url: str,
) -> None:
    async with open_store(url):  # migrated to head
        pass
    old_batch = [replace(e, event_id=uuid4()) for e in [sampled(1), sampled(2)]]
    downgrade_to(url, "0003", old_batch, stream="metrics/a")

    async with open_store(url) as store:
        assert await store.delete_metric_samples(HUB, "metrics/a", through_version=2) == 2
        retried = await store.append(HUB, "metrics/a", old_batch)
        assert (retried.version, list(retried.positions)) == (2, [1, 2])
        assert [e async for e in store.read_log(HUB)] == []
        new = await store.append(HUB, "metrics/a", [sampled(3)], expected_version=2)
        assert (new.version, list(new.positions)) == (3, [3])


async def test_a_log_at_revision_0004_stops_copying_a_time_past_year_9999_after_the_upgrade(
    make_url: Callable[[str], str],
) -> None:
    """0004's hublog_advance let a damaged last time past year 9999 win the
    clock, so every new event got it; 0005's passes over it."""
    url = make_url("postgresql")
    async with open_store(url) as store:
        await store.append(HUB, A, checks(1))
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            downgrade(conn, "0004")
            conn.exec_driver_sql("UPDATE hublog_events SET recorded_at = '10000-01-01+00'")
            conn.commit()
            assert stamped_after_the_damage(conn) == "10000-01-01 00:00:00+00"  # the bug
            migrations.upgrade(conn)
            assert migrations.current_revision(conn) == "0006"
            assert stamped_after_the_damage(conn).startswith(f"{datetime.now(UTC).year}-")
    finally:
        engine.dispose()


def stamped_after_the_damage(conn: sa.Connection) -> str:
    """The time hublog_advance gives the next event, as PostgreSQL's UTC text
    (psycopg cannot load a year past 9999); nothing is written."""
    conn.exec_driver_sql("SET TIME ZONE 'UTC'")
    at = conn.exec_driver_sql(
        f"SELECT clock::text FROM hublog_advance('{HUB}', '{A}', 1, -1, ARRAY[]::uuid[])"
    ).scalar_one()
    conn.rollback()
    return str(at)


async def test_a_log_at_0005_upgraded_finds_a_stream_s_hubs_by_its_index(url: str) -> None:
    """0006 indexes streams by name: a log written before it answers
    hubs_with_stream the same once upgraded, and the lookup uses the index."""
    async with open_store(url) as store:
        await store.append("pool-a", A, [registered()])
        await store.append("pool-b", A, [registered()])
        await store.append("pool-b", "instance/b", [registered()])
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            downgrade(conn, "0005")
            assert "ix_hublog_streams_stream" not in index_names(conn)
            migrations.upgrade(conn)
            assert "ix_hublog_streams_stream" in index_names(conn)
    finally:
        engine.dispose()
    async with open_store(url) as store:
        assert await store.hubs_with_stream(A) == ["pool-a", "pool-b"]
        assert await store.hubs_with_stream("instance/b") == ["pool-b"]
        assert await store.hubs_with_stream("instance/c") == []


def index_names(conn: sa.Connection) -> set[str]:
    return {index["name"] for index in sa.inspect(conn).get_indexes("hublog_streams")}
