"""4 writer processes appending single events to one hub: the total rate.

Workers come from a forkserver that has the bench modules imported already,
so a round costs a fork, not an interpreter start.  Each opens its own
connection, waits at a barrier with the others, appends ``count`` single
events to a stream of its own, and reports when it started and finished;
the rate is all events over the span from the first start to the last end.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any

import anyio

WRITERS = 4
_context = multiprocessing.get_context("forkserver")
# Whatever a worker needs, imported once in the server (a missing one, such as
# the peer without the bench extra, is skipped by the server).
_context.set_forkserver_preload([
    "bench.figures.ours", "bench.figures.raw_sqlite", "bench.figures.raw_postgres",
    "bench.figures.raw_redis", "bench.figures.peer", "adapters.sql.store",
    "adapters.sql.migrations", "adapters.redis.store", "tests.eventstore.contract.factories",
])  # fmt: skip


def total_rate(side: str, backend: str, where: str, hub: str, count: int) -> float:
    """Events/s of :data:`WRITERS` processes together on hub ``hub``."""
    barrier = _context.Barrier(WRITERS + 1)
    results = _context.Queue()
    workers = [
        _context.Process(target=_work, args=(side, backend, where, hub, k, count, barrier, results))
        for k in range(WRITERS)
    ]
    for worker in workers:
        worker.start()
    try:
        barrier.wait(timeout=120)
    except threading.BrokenBarrierError:  # a worker could not start: say why
        said = {results.get(timeout=30) for _ in workers}
        raise RuntimeError(
            f"a {side}/{backend} writer failed: {' | '.join(map(str, said))}"
        ) from None
    spans = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    failed = [s for s in spans if isinstance(s, str)]
    if failed:
        raise RuntimeError(f"a {side}/{backend} writer failed: {failed[0]}")
    return WRITERS * count / (max(s[1] for s in spans) - min(s[0] for s in spans))


def _work(side: str, backend: str, where: str, hub: str, k: int, count: int,
          barrier: Any, results: Any) -> None:  # fmt: skip
    try:
        if side == "hublog":  # opened, waiting and appending in one event loop
            results.put(anyio.run(_hublog_span, where, hub, f"metrics/w{k}", count, barrier))
            return
        append_all = _opened(side, backend, where, hub, k)
        barrier.wait(timeout=120)
        started = time.perf_counter()
        append_all(count)
        results.put((started, time.perf_counter()))
    except Exception as exc:  # noqa: BLE001 - any failure: the parent reports it
        barrier.abort()
        results.put(f"{type(exc).__name__}: {exc}")


def _opened(side: str, backend: str, where: str, hub: str, k: int) -> Any:
    """A function appending ``n`` single events, its connection already open."""
    from tests.eventstore.contract.factories import sampled

    stream = f"metrics/w{k}"
    if side == "peer":
        return _peer_writer(backend, where)
    if backend == "redis":
        from . import raw_redis

        client = raw_redis.connect(where.partition("#")[0])
        key = where.partition("#")[2]
        return lambda n: [
            client.xadd(key, raw_redis._fields(stream, 0, sampled())) for _ in range(n)
        ]
    if backend == "sqlite":
        from . import raw_sqlite

        conn = raw_sqlite.connect(where)
        return lambda n: [raw_sqlite.append(conn, hub, stream, [sampled()]) for _ in range(n)]
    from . import raw_postgres

    pg = raw_postgres.connect(where)
    return lambda n: [raw_postgres.append_one(pg, hub, stream, sampled()) for _ in range(n)]


async def _hublog_span(url: str, hub: str, stream: str, count: int,
                       barrier: Any) -> tuple[float, float]:  # fmt: skip
    from adapters import open_store
    from tests.eventstore.contract.factories import sampled

    async with open_store(url) as store:
        await store.head(hub)  # connected and checked before the clock starts
        barrier.wait(timeout=120)  # blocks the loop: nothing else runs in it
        started = time.perf_counter()
        for _ in range(count):
            await store.append(hub, stream, [sampled()])
        return started, time.perf_counter()


def _peer_writer(backend: str, where: str) -> Any:
    from . import peer

    make = peer.sqlite_app if backend == "sqlite" else peer.postgres_app
    app = make(where, create_table=False)  # the suite's own app made the tables
    instance = peer.new_instance()
    app.save(instance)

    def run(n: int) -> None:
        for _ in range(n):
            peer.sample_now(instance)
            app.save(instance)

    return run
