"""The SQL event store's own queries: ``position_at`` looks at one hub only,
and deleting samples holds the hub's lock (PostgreSQL: the hub's row;
SQLite: the write lock from BEGIN)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.sql import SQLEventStore
from eventstore import BackendUnavailable, EventStore
from tests.backends import Backend
from tests.eventstore.contract.factories import checks, sampled

pytestmark = pytest.mark.anyio

H1, H2 = "hub-one", "hub-two"
A, M = "instance/a", "metrics/a"
T = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
AT_T = {"sqlite": "'2026-11-01 12:00:00.000000'", "postgresql": "'2026-11-01 12:00:00+00'"}


async def test_position_at_is_the_last_position_of_that_hub_at_a_time_another_hub_shares(
    store: EventStore, backend: Backend
) -> None:
    assert isinstance(store, SQLEventStore)
    await store.append(H1, A, checks(1))
    await store.append(H2, A, checks(3))  # positions 1-3 of hub-two, at the same time
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE hublog_events SET recorded_at = {AT_T[backend.kind]}")

    assert await store.position_at(H1, T + timedelta(days=1)) == 1
    assert await store.position_at(H1, T) == 1
    assert await store.position_at(H2, T) == 3
    assert await store.position_at(H1, T - timedelta(microseconds=1)) == 0


async def test_deleting_samples_on_sqlite_takes_the_write_lock_at_begin(
    make_url: Any,
) -> None:
    """BEGIN IMMEDIATE, as for every write (adapters/sql/engine.py): the
    writer holds the lock from its first statement."""
    async with SQLEventStore(make_url("sqlite"), auto_migrate=True) as store:
        await store.append(H1, M, [sampled(), sampled()])
        begun: list[str] = []

        @sa.event.listens_for(store.engine, "before_cursor_execute")
        def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.startswith("BEGIN"):
                begun.append(statement)

        assert await store.delete_metric_samples(H1, M, through_version=1) == 1
        sa.event.remove(store.engine, "before_cursor_execute", seen)

    assert begun == ["BEGIN IMMEDIATE"]


@pytest.fixture
def pg_url_with_lock_timeout(pg_url: str) -> str:
    """A PostgreSQL store URL whose sessions give up a lock wait after 100 ms."""
    return f"{pg_url}%20-clock_timeout%3D100"


@pytest.mark.external_service
async def test_deleting_samples_waits_for_the_hubs_row_lock(pg_url_with_lock_timeout: str) -> None:
    async with SQLEventStore(pg_url_with_lock_timeout) as store:
        await store.append(H1, M, [sampled(), sampled()])
        await store.append(H2, M, [sampled()])
        with store.engine.connect() as holder, holder.begin():  # an append of hub-one, say
            holder.exec_driver_sql(f"SELECT 1 FROM hublog_hubs WHERE hub_id = '{H1}' FOR UPDATE")

            with pytest.raises(BackendUnavailable) as caught:
                await store.delete_metric_samples(H1, M, through_version=1)
            assert await store.delete_metric_samples(H2, M, through_version=1) == 1

        assert str(caught.value) == (
            f"postgresql at {store.where}: canceling statement due to lock timeout"
        )
        assert [e.version async for e in store.read_stream(H1, M)] == [1, 2]
        assert await store.delete_metric_samples(H1, M, through_version=1) == 1


async def test_hubs_leaves_out_a_hub_row_whose_head_is_still_0(store: EventStore) -> None:
    """A hub row at head 0 (a lock taken on a hub that never got an event)
    is no hub with events."""
    assert isinstance(store, SQLEventStore)
    await store.append(H2, A, checks(1))
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO hublog_hubs (hub_id, head) VALUES ('{H1}', 0)")

    assert await store.hubs() == [H2]
