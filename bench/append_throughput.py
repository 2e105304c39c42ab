"""Append throughput per backend, and what the per-hub lock costs concurrent writers.

    python bench/append_throughput.py [--events 400] [--backends memory,sqlite,sqlite-normal,postgresql]

Prints events per second for: one writer appending one event per batch, one
writer appending batches of 50, 8 tasks appending to ONE hub (they queue on
the hub's lock), and 8 tasks appending to 8 different hubs.  Ratios are only
meaningful within one run on one machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters import open_store
from eventstore import EventStore, HealthChecked
from tests import services

WRITERS = 8


def events(n: int) -> list[HealthChecked]:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    return [HealthChecked(ok=True, checked_at=now, latency_ms=10.0) for _ in range(n)]


async def one_writer(store: EventStore, total: int, batch: int, hub: str) -> None:
    for i in range(total // batch):
        await store.append(hub, f"instance/i{i % 10}", events(batch))


async def many_writers(store: EventStore, total: int, hubs: list[str]) -> None:
    async with anyio.create_task_group() as tg:
        for n in range(WRITERS):
            tg.start_soon(one_writer, store, total // WRITERS, 1, hubs[n % len(hubs)])


async def measure(url: str, total: int) -> dict[str, float]:
    results = {}
    async with open_store(url) as store:
        cases = {
            "1 writer, batch 1": lambda: one_writer(store, total, 1, "single"),
            "1 writer, batch 50": lambda: one_writer(store, total * 5, 50, "batched"),
            f"{WRITERS} writers, 1 hub": lambda: many_writers(store, total, ["shared"]),
            f"{WRITERS} writers, {WRITERS} hubs": lambda: many_writers(
                store, total, [f"hub-{n}" for n in range(WRITERS)]
            ),
        }
        for name, case in cases.items():
            before = sum([await store.head(h) for h in await store.hubs()])
            start = time.perf_counter()
            await case()
            elapsed = time.perf_counter() - start
            written = sum([await store.head(h) for h in await store.hubs()]) - before
            results[name] = written / elapsed
    return results


def urls(stack: ExitStack, names: list[str]) -> dict[str, str]:
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
    known = {
        "memory": lambda: "memory://",
        "sqlite": lambda: f"sqlite:///{tmp / 'full.db'}",
        "sqlite-normal": lambda: f"sqlite:///{tmp / 'normal.db'}?synchronous=normal",
        "postgresql": lambda: stack.enter_context(services.postgres_schema()),
    }
    return {name: known[name]() for name in names}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--backends", default="memory,sqlite,sqlite-normal,postgresql")
    args = parser.parse_args()
    with ExitStack() as stack:
        table = {
            name: anyio.run(measure, url, args.events)
            for name, url in urls(stack, args.backends.split(",")).items()
        }
    cases = list(next(iter(table.values())))
    print(f"{'events/s':<16}" + "".join(f"{c:>22}" for c in cases))
    for name, row in table.items():
        print(f"{name:<16}" + "".join(f"{row[c]:>22,.0f}" for c in cases))


if __name__ == "__main__":
    main()
