"""The edges of the read-model storage contract, on every backend: a closed
store, read models side by side (projections, hubs, tables, keys that must
not be mixed up), scan and snapshot boundaries, and the fingerprint a commit
leaves behind.  ``test_contract.py`` has the main line (exactly-once commits,
ranges, key order); what it asserts is not repeated here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from adapters import readmodel_store_for
from eventstore import EventStore, StoreClosed
from projections import Checkpoint, CheckpointConflict, Commit, ReadModelStore, Snapshot
from tests.backends import Backend
from tests.projections.readmodels.test_contract import HUB, commit

pytestmark = pytest.mark.anyio

P, Q = "hub", "health"
A, B, C = "pool-a", "pool-b", "pool-c"
MODELS = ((P, A), (P, B), (Q, B), (Q, C))
"""Two projections over three hubs; both have a read model of hub B."""
TABLES = {P: ("t", "u"), Q: ("t", "u", "v")}
KEYS = ("k1", "k2")


def batch(
    projection: str,
    hub_id: str,
    after: int,
    position: int,
    *,
    fingerprint: str = "fp:v1",
    writes: tuple[tuple[str, str, bytes | None], ...] = (),
    snapshot: bytes | None = None,
) -> Commit:
    return Commit(
        projection=projection,
        hub_id=hub_id,
        fingerprint=fingerprint,
        after=after,
        position=position,
        writes=writes,
        snapshot=snapshot,
    )


def row(projection: str, hub_id: str, table: str, key: str) -> bytes:
    """Data naming all four coordinates: a row read from the wrong one shows."""
    return f"{projection}/{hub_id}/{table}/{key}".encode()


async def fill_side_by_side(storage: ReadModelStore) -> None:
    """Every model of MODELS with every key of its tables, each at its own position."""
    for position, (p, h) in enumerate(MODELS, start=1):
        writes = tuple((t, k, row(p, h, t, k)) for t in TABLES[p] for k in KEYS)
        assert await storage.commit(batch(p, h, 0, position, writes=writes)) is True


# --- a closed store ---------------------------------------------------------------

AFTER_CLOSE: dict[str, Callable[[ReadModelStore], Awaitable[object]]] = {
    "checkpoint": lambda s: s.checkpoint("p", HUB),
    "commit": lambda s: s.commit(commit(2, 3, writes=(("t", "b", b"2"),))),
    "get": lambda s: s.get("p", HUB, "t", "a"),
    "scan": lambda s: s.scan("p", HUB, "t"),
    "find": lambda s: s.find("p", "t", "a"),
    "tables": lambda s: s.tables("p", HUB),
    "hubs": lambda s: s.hubs("p"),
    "drop": lambda s: s.drop("p", HUB),
    "snapshot": lambda s: s.snapshot("p", HUB),
}


def closed_message(backend: Backend, store_url: str) -> str:
    """What each backend's closed read-model store says (a SQL one names the
    database as its event store does: by the store URL)."""
    if backend.kind == "memory":
        return "MemoryReadModelStore is closed"
    if backend.kind == "redis":
        return "RedisReadModelStore is closed"
    return f"SQLReadModelStore at {store_url} is closed"


async def refusal(call: Awaitable[object]) -> str:
    """``StoreClosed: <message>`` when awaiting ``call`` raises it."""
    try:
        answer = await call
    except StoreClosed as exc:
        return f"{type(exc).__name__}: {exc}"
    return f"answered {answer!r}"


async def test_every_method_of_a_closed_store_refuses_with_the_backends_message(
    backend: Backend, store_url: str, store: EventStore, storage: ReadModelStore
) -> None:
    await storage.commit(commit(0, 2, writes=(("t", "a", b"1"),), snapshot=b"s2"))
    await storage.close()

    refusals = {method: await refusal(call(storage)) for method, call in AFTER_CLOSE.items()}

    message = f"StoreClosed: {closed_message(backend, store_url)}"
    assert refusals == dict.fromkeys(AFTER_CLOSE, message)
    if backend.kind != "memory":  # the data outlives the store: the refused drop and commit
        async with readmodel_store_for(store) as reopened:  # changed nothing
            assert await reopened.checkpoint("p", HUB) == Checkpoint(2, "p:v1")
            assert await reopened.scan("p", HUB, "t") == [("a", b"1")]


async def test_close_is_idempotent_and_leaves_the_event_store_open(
    backend: Backend, store_url: str, store: EventStore, storage: ReadModelStore
) -> None:
    await storage.close()
    await storage.close()
    async with storage:  # and a third time on leaving the block
        pass

    assert await refusal(storage.checkpoint("p", HUB)) == (
        f"StoreClosed: {closed_message(backend, store_url)}"
    )
    assert await store.head(HUB) == 0


async def test_leaving_the_async_with_block_closes_the_store(
    backend: Backend, store_url: str, store: EventStore
) -> None:
    async with readmodel_store_for(store) as storage:
        assert await storage.checkpoint("p", HUB) is None

    assert await refusal(storage.checkpoint("p", HUB)) == (
        f"StoreClosed: {closed_message(backend, store_url)}"
    )


# --- read models side by side ------------------------------------------------------


async def test_get_and_scan_never_mix_up_projections_hubs_tables_or_keys(
    storage: ReadModelStore,
) -> None:
    await fill_side_by_side(storage)

    for p, h in MODELS:
        for t in TABLES[p]:
            for k in KEYS:
                assert await storage.get(p, h, t, k) == row(p, h, t, k), (p, h, t, k)
            assert await storage.scan(p, h, t) == [(k, row(p, h, t, k)) for k in KEYS]
        assert await storage.tables(p, h) == list(TABLES[p])
    assert await storage.get(P, B, "t", "k3") is None  # another key
    assert await storage.get(P, B, "v", "k1") is None  # a table of Q's model of B
    assert await storage.get(P, C, "t", "k1") is None  # a hub of Q only
    assert await storage.scan(Q, A, "t") == []  # a hub of P only
    assert await storage.tables(Q, A) == []


async def test_find_returns_only_the_rows_of_the_projection_asked_for(
    storage: ReadModelStore,
) -> None:
    await fill_side_by_side(storage)

    assert sorted(await storage.find(P, "t", "k1")) == [
        (A, row(P, A, "t", "k1")),
        (B, row(P, B, "t", "k1")),
    ]
    assert sorted(await storage.find(Q, "u", "k2")) == [
        (B, row(Q, B, "u", "k2")),
        (C, row(Q, C, "u", "k2")),
    ]
    assert await storage.find(P, "v", "k1") == []  # a table of Q only
    assert await storage.find(P, "t", "k3") == []
    assert await storage.find("metrics", "t", "k1") == []


async def test_hubs_lists_only_the_projections_hubs_with_a_checkpoint(
    storage: ReadModelStore,
) -> None:
    await fill_side_by_side(storage)
    with pytest.raises(CheckpointConflict):  # a first commit that did not start at 0
        await storage.commit(batch(P, C, 4, 5, writes=(("t", "k1", b"x"),)))

    assert await storage.hubs(P) == [A, B]
    assert await storage.hubs(Q) == [B, C]
    assert await storage.hubs("metrics") == []
    assert await storage.checkpoint(P, C) is None


async def test_dropping_one_read_model_leaves_the_others_and_a_missing_one_is_no_error(
    storage: ReadModelStore,
) -> None:
    await fill_side_by_side(storage)

    await storage.drop(P, C)  # never existed
    await storage.drop("metrics", A)  # never existed
    await storage.drop(P, B)
    await storage.drop(P, B)  # dropped already

    assert await storage.hubs(P) == [A]
    assert await storage.hubs(Q) == [B, C]
    assert await storage.get(P, B, "t", "k1") is None
    assert await storage.get(Q, B, "t", "k1") == row(Q, B, "t", "k1")
    assert await storage.get(P, A, "u", "k2") == row(P, A, "u", "k2")
    assert await storage.checkpoint(Q, B) == Checkpoint(3, "fp:v1")
    assert await storage.find(P, "t", "k1") == [(A, row(P, A, "t", "k1"))]


# --- scan and snapshot boundaries --------------------------------------------------

ROWS = tuple(("t", k, k.encode()) for k in ("c", "a", "e", "b", "d"))


def rows_of(*keys: str) -> list[tuple[str, bytes]]:
    return [(k, k.encode()) for k in keys]


async def test_scan_bounds_start_inclusive_stop_exclusive_and_limit_the_first_rows(
    storage: ReadModelStore,
) -> None:
    await storage.commit(commit(0, 1, writes=ROWS))

    assert await storage.scan("p", HUB, "t", limit=None) == rows_of("a", "b", "c", "d", "e")
    assert await storage.scan("p", HUB, "t", limit=5) == rows_of("a", "b", "c", "d", "e")
    assert await storage.scan("p", HUB, "t", limit=9) == rows_of("a", "b", "c", "d", "e")
    assert await storage.scan("p", HUB, "t", limit=3) == rows_of("a", "b", "c")
    assert await storage.scan("p", HUB, "t", limit=0) == []
    assert await storage.scan("p", HUB, "t", start="b") == rows_of("b", "c", "d", "e")
    assert await storage.scan("p", HUB, "t", start="bb") == rows_of("c", "d", "e")
    assert await storage.scan("p", HUB, "t", stop="d") == rows_of("a", "b", "c")
    assert await storage.scan("p", HUB, "t", start="b", stop="e") == rows_of("b", "c", "d")
    assert await storage.scan("p", HUB, "t", start="b", stop="e", limit=2) == rows_of("b", "c")
    assert await storage.scan("p", HUB, "t", start="c", stop="c") == []
    assert await storage.scan("p", HUB, "t", start="d", stop="b") == []
    assert await storage.scan("p", HUB, "t", start="f") == []
    assert await storage.scan("p", HUB, "nothing") == []


async def test_snapshot_at_or_before_includes_a_snapshot_at_exactly_that_position(
    storage: ReadModelStore,
) -> None:
    await storage.commit(commit(0, 3, snapshot=b"s3"))
    await storage.commit(commit(3, 5))
    await storage.commit(commit(5, 8, snapshot=b"s8"))

    assert await storage.snapshot("p", HUB, at_or_before=3) == Snapshot(3, "p:v1", b"s3")
    assert await storage.snapshot("p", HUB, at_or_before=8) == Snapshot(8, "p:v1", b"s8")
    assert await storage.snapshot("p", HUB, at_or_before=7) == Snapshot(3, "p:v1", b"s3")
    assert await storage.snapshot("p", HUB, at_or_before=2) is None
    assert await storage.snapshot("p", HUB, at_or_before=0) is None
    assert await storage.snapshot("p", HUB, at_or_before=100) == Snapshot(8, "p:v1", b"s8")


async def test_checkpoint_and_each_snapshot_carry_the_fingerprint_of_their_commit(
    storage: ReadModelStore,
) -> None:
    assert await storage.commit(batch(P, A, 0, 3, fingerprint="hub:v1", snapshot=b"s3"))
    assert await storage.checkpoint(P, A) == Checkpoint(3, "hub:v1")
    assert await storage.commit(batch(P, A, 3, 5, fingerprint="hub:v2", snapshot=b"s5"))
    # a retry of the last commit under another fingerprint writes nothing
    assert await storage.commit(batch(P, A, 3, 5, fingerprint="hub:v3", snapshot=b"x")) is False

    assert await storage.checkpoint(P, A) == Checkpoint(5, "hub:v2")
    assert await storage.snapshot(P, A) == Snapshot(5, "hub:v2", b"s5")
    assert await storage.snapshot(P, A, at_or_before=4) == Snapshot(3, "hub:v1", b"s3")
