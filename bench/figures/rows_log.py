"""The append and read rows: for each figure, how each side measures it once.

Every call appends to hubs (keys, aggregates) of its own, so rounds never
grow one another's logs; the read rows read the logs the rig filled before
the first round.
"""

from __future__ import annotations

import time
from typing import Any

from tests.eventstore.contract.factories import sampled

from . import ours, raw_postgres, raw_redis, raw_sqlite
from .rig import READ_HUB, SQL, Rig
from .table import Named, Row

try:
    from . import peer
except ImportError:  # eventsourcing is the bench extra: no peer columns without it
    peer = None  # type: ignore[assignment]

NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "redis": "Redis"}


def peer_side(rig: Rig, backend: str, fn: Any) -> Any:
    """The peer's side where it has the backend (SQL) and is installed."""
    return fn if rig.with_peer and backend in SQL else None


def append_rows(rig: Rig) -> list[Row]:
    s = rig.sizes
    out = []
    for b in rig.stores:
        out.append(Row(
            f"{NAMES[b]} batched append, batches of {s.batch}", "events/s",
            lambda b=b: ours.batched_append(rig.stores[b], rig.fresh("b"), s.batch, s.batches),
            lambda b=b: _raw_batched(rig, b),
            peer_side(rig, b, lambda b=b: peer.batched_append(rig.peers[b, "write"], s.batch,
                                                              s.batches)),
        ))  # fmt: skip
    for b in rig.stores:
        durable = " durable (synchronous=FULL)" if b == "sqlite" else ""
        out.append(Row(
            f"{NAMES[b]} single-event{durable} append", "events/s",
            lambda b=b: ours.single_appends(rig.stores[b], rig.fresh("s"), s.singles),
            lambda b=b: _raw_single(rig, b),
            peer_side(rig, b, lambda b=b: peer.single_appends(rig.peers[b, "write"], s.singles)),
        ))  # fmt: skip
    return out


def _raw_batched(rig: Rig, backend: str) -> Any:
    s = rig.sizes
    pending = [[sampled(n) for n in range(s.batch)] for _ in range(s.batches)]
    conn = rig.raw[backend]
    if backend == "sqlite":
        return raw_sqlite.batched_append(conn, rig.fresh("b"), pending)
    if backend == "redis":
        return raw_redis.batched_append(conn, rig.places.raw_redis_key(rig.fresh("b")), pending)
    return Named({
        "binary COPY": raw_postgres.batched_append(conn, rig.fresh("b"), pending, copy=True),
        "executemany": raw_postgres.batched_append(conn, rig.fresh("b"), pending, copy=False),
    })  # fmt: skip


def _raw_single(rig: Rig, backend: str) -> float:
    pending = [sampled(n) for n in range(rig.sizes.singles)]
    conn = rig.raw[backend]
    if backend == "sqlite":
        return raw_sqlite.single_appends(conn, rig.fresh("s"), pending)
    if backend == "redis":
        return raw_redis.single_appends(conn, rig.places.raw_redis_key(rig.fresh("s")), pending)
    return raw_postgres.single_appends(conn, rig.fresh("s"), pending)


def rate(fn: Any, count: int) -> Any:
    """A measure: events/s of a sync or async call that handles ``count`` events."""

    async def timed() -> float:
        started = time.perf_counter()
        result = fn()
        if hasattr(result, "__await__"):
            await result
        return count / (time.perf_counter() - started)

    return timed


def read_rows(rig: Rig) -> list[Row]:
    n = rig.sizes.read_events
    raw_read = {
        "sqlite": lambda: raw_sqlite.read_all(rig.raw["sqlite"], READ_HUB),
        "postgresql": lambda: raw_postgres.read_all(rig.raw["postgresql"], READ_HUB),
        "redis": lambda: raw_redis.read_all(rig.raw["redis"], rig.places.raw_redis_key(READ_HUB)),
    }
    return [
        Row(f"{NAMES[b]} decoded read of a hub's log ({n:,} samples)", "events/s",
            rate(lambda b=b: ours.read_all(rig.stores[b], READ_HUB), n),
            rate(raw_read[b], n),
            peer_side(rig, b, rate(lambda b=b: peer.read_all(rig.peers[b, "read"]), n)))
        for b in rig.stores
    ]  # fmt: skip
