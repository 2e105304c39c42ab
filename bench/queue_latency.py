"""Reservation latency per backend: ``reserve`` with a free slot (``wait=0``),
the hand-off to a waiter (from the holder's release to the waiter's grant),
and grants/s with 12 clients contending for a pool of 3 instances of
capacity 2 (one process, one adapter: the queue's own cost, not the
processes').  Leases are given back by their token (``adapter.release``),
as a client holding a ``Reservation`` does.

    python bench/queue_latency.py [--calls 100] [--seconds 5] [--backends memory,sqlite,postgresql,redis]

One run prints one table.  Latencies are on loopback, only comparable
within one run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.hub import HubPersistenceAdapter
from tests import services
from tests.adapters.hub.instances import Instance, OllamaConfig

HUB = "bench-pool"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def pool(adapter: HubPersistenceAdapter, names: list[str], capacity: int) -> None:
    for name in names:
        config = OllamaConfig(models=["llama3"], max_concurrent=capacity)
        await adapter.save_instance(HUB, Instance(name, config=config))


async def free_slot(adapter: HubPersistenceAdapter, calls: int) -> list[float]:
    times = []
    for n in range(calls):
        started = time.perf_counter()
        got = await adapter.reserve(HUB, owner_id=f"o{n}", ttl=30)
        times.append(time.perf_counter() - started)
        await adapter.release(got)
    return times


async def hand_off(adapter: HubPersistenceAdapter, calls: int) -> list[float]:
    """From the holder's release to the waiter's grant (a second adapter,
    but on ``memory://``, whose log is private to its adapter)."""
    times = []
    second = HubPersistenceAdapter(adapter.url)
    async with second if not adapter.url.startswith("memory") else adapter as waiter:
        for n in range(calls):
            held = await adapter.reserve(HUB, owner_id="holder", ttl=30)
            released_at: list[float] = []

            async def wait(n: int = n, released_at: list[float] = released_at) -> None:
                got = await waiter.reserve(HUB, owner_id=f"w{n}", ttl=30, wait=30)
                times.append(time.perf_counter() - released_at[0])
                await waiter.release(got)

            async with anyio.create_task_group() as tg:
                tg.start_soon(wait)
                while (await adapter.queue_stats(HUB)).depth < 1:
                    await anyio.sleep(0.005)
                released_at.append(time.perf_counter())
                await adapter.release(held)
    return times


async def contended(adapter: HubPersistenceAdapter, seconds: float) -> float:
    grants = 0
    deadline = anyio.current_time() + seconds

    async def client(n: int) -> None:
        nonlocal grants
        while anyio.current_time() < deadline:
            got = await adapter.reserve(HUB, owner_id=f"c{n}", ttl=30, wait=30)
            grants += 1
            await adapter.release(got)

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for n in range(12):
            tg.start_soon(client, n)
    return grants / (time.perf_counter() - started)


async def one(url: str, calls: int, seconds: float) -> dict[str, float]:
    row: dict[str, float] = {}
    async with HubPersistenceAdapter(url) as adapter:
        await pool(adapter, ["solo"], 1)
        free = await free_slot(adapter, calls)
        handed = await hand_off(adapter, max(10, calls // 5))
    async with HubPersistenceAdapter(url) as adapter:
        global HUB
        HUB, previous = "bench-contended", HUB
        await pool(adapter, ["i0", "i1", "i2"], 2)
        row["grants/s"] = await contended(adapter, seconds)
        HUB = previous
    row.update({"free p50": pct(free, 0.5), "free p99": pct(free, 0.99),
                "hand-off p50": pct(handed, 0.5), "hand-off p99": pct(handed, 0.99)})  # fmt: skip
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--backends", default="memory,sqlite,postgresql,redis")
    args = parser.parse_args()
    print(
        "| backend | reserve, free slot p50 / p99 ms | hand-off p50 / p99 ms | grants/s, 12 clients |"
    )
    print("|---|---:|---:|---:|")
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        urls = {
            "memory": lambda: "memory://",
            "sqlite": lambda: f"sqlite:///{tmp}/bench.db",
            "postgresql": lambda: stack.enter_context(services.postgres_schema()),
            "redis": lambda: stack.enter_context(services.redis_prefix()),
        }
        for kind in args.backends.split(","):
            row = anyio.run(one, urls[kind](), args.calls, args.seconds)
            print(f"| {kind} | {row['free p50']:.1f} / {row['free p99']:.1f} | "
                  f"{row['hand-off p50']:.1f} / {row['hand-off p99']:.1f} | "
                  f"{row['grants/s']:.0f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
