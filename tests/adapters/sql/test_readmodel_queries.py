"""The SQL read-model store's queries: ``find`` and ``hubs`` in hub order
whatever order the rows were written in (and, on PostgreSQL, whatever plan), ``hubs`` leaving out a checkpoint
that never moved past 0, and the driver-SQL row statements a commit runs
(``_row_sql``: put, overwrite, delete, delete a range — of one model only)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.sql.readmodels import SQLReadModelStore, _row_sql
from projections import Checkpoint, Commit, ReadModelStore
from tests.backends import Backend

pytestmark = pytest.mark.anyio

P, Q = "hub", "health"
HUBS_NEWEST_FIRST = ("pool-z", "pool-m", "pool-a")


@pytest.fixture
def store_url(backend: Backend, make_url: Callable[[str], str]) -> str:
    """Fresh data; on PostgreSQL sessions that scan tables instead of
    walking an index, so no order comes from the plan (rows of a heap
    come in the order they were last written)."""
    url = make_url(backend.kind)
    if backend.kind == "postgresql":
        url += "%20-cenable_indexscan%3Doff%20-cenable_indexonlyscan%3Doff"
    return url


def commit(
    hub_id: str,
    after: int,
    position: int,
    writes: tuple[tuple[str, str, bytes | None], ...] = (),
    projection: str = P,
) -> Commit:
    return Commit(
        projection=projection,
        hub_id=hub_id,
        fingerprint="fp:v1",
        after=after,
        position=position,
        writes=writes,
    )


async def test_find_lists_the_hubs_in_order_whatever_order_they_were_written_in(
    storage: ReadModelStore,
) -> None:
    for hub_id in HUBS_NEWEST_FIRST:
        await storage.commit(commit(hub_id, 0, 1, (("t", "k", hub_id.encode()),)))

    assert await storage.find(P, "t", "k") == [
        ("pool-a", b"pool-a"),
        ("pool-m", b"pool-m"),
        ("pool-z", b"pool-z"),
    ]


async def test_hubs_lists_the_hubs_in_order_whatever_order_they_were_committed_in(
    storage: ReadModelStore,
) -> None:
    for hub_id in HUBS_NEWEST_FIRST:
        await storage.commit(commit(hub_id, 0, 3))

    assert await storage.hubs(P) == ["pool-a", "pool-m", "pool-z"]


async def test_hubs_leaves_out_a_hub_whose_checkpoint_never_moved_past_0(
    storage: ReadModelStore,
) -> None:
    await storage.commit(commit("pool-a", 0, 2))
    assert await storage.commit(commit("pool-b", 0, 0)) is True  # a batch of no events

    assert await storage.checkpoint(P, "pool-b") == Checkpoint(0, "fp:v1")
    assert await storage.hubs(P) == ["pool-a"]


async def test_the_row_statements_put_overwrite_delete_and_delete_a_range_of_one_model(
    storage: ReadModelStore,
) -> None:
    assert isinstance(storage, SQLReadModelStore)
    sql = _row_sql(storage.dialect)
    await storage.commit(commit("pool-a", 0, 1))  # the schema is checked; nothing written
    mine = [("pool-a", "t", key, key.encode()) for key in ("k1", "k2", "k3", "k4")]
    theirs = [("pool-b", "t", "k2", b"b"), ("pool-a", "u", "k2", b"u")]
    with storage.engine.begin() as conn:
        conn.exec_driver_sql(sql["put"], [(P, h, t, k, d) for h, t, k, d in mine + theirs])
        conn.exec_driver_sql(sql["put"], [(Q, "pool-a", "t", "k2", b"q")])
        conn.exec_driver_sql(sql["put"], [(P, "pool-a", "t", "k1", b"one")])  # overwrites
        conn.exec_driver_sql(sql["delete"], [(P, "pool-a", "t", "k2")])
        conn.exec_driver_sql(sql["range"], [(P, "pool-a", "t", "k3", "k4")])  # k3 only

    assert await storage.scan(P, "pool-a", "t") == [("k1", b"one"), ("k4", b"k4")]
    assert await storage.scan(P, "pool-b", "t") == [("k2", b"b")]
    assert await storage.scan(P, "pool-a", "u") == [("k2", b"u")]
    assert await storage.scan(Q, "pool-a", "t") == [("k2", b"q")]
