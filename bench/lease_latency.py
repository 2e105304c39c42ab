"""Lease latency per backend: acquire / renew / release, p50 and p99, and the
store round trips each call makes — uncontended, and with 6 processes
contending for one lease of capacity 3 (each with its own connection).

    python bench/lease_latency.py [--calls 300] [--backends memory,sqlite,postgresql,redis]

One run prints one table.  A round trip is one call of a store primitive
(read a stream page, append, now); the clock's calibration is amortised over
the calls.  Latencies are on loopback and only comparable within one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters import open_store
from eventstore import EventStore
from projections.deciders.leases import LeaseContention, LeaseService
from tests import services

PROCESSES = 6
PRIMITIVES = ("_append", "_read_stream_page", "now")


def counting(store: EventStore) -> Counter[str]:
    calls: Counter[str] = Counter()
    for name in PRIMITIVES:
        inner = getattr(store, name)

        async def counted(*args: Any, _inner: Any = inner, _name: str = name, **kw: Any) -> Any:
            calls[_name] += 1
            return await _inner(*args, **kw)

        setattr(store, name, counted)
    return calls


async def cycle(leases: LeaseService, calls: Counter[str], owner: str, resource: str, n: int,
                capacity: int) -> dict[str, Any]:  # fmt: skip
    """``n`` acquire -> renew -> release cycles; latencies (s) and round trips."""
    times: dict[str, list[float]] = {"acquire": [], "renew": [], "release": []}
    trips: Counter[str] = Counter()
    for _ in range(n):
        try:
            await one_cycle(leases, calls, owner, resource, capacity, times, trips)
        except LeaseContention:  # counted, not timed: every attempt lost its race
            trips["contention"] += 1
    return {"times": times, "trips": trips}


async def one_cycle(leases: LeaseService, calls: Counter[str], owner: str, resource: str,
                    capacity: int, times: dict[str, list[float]], trips: Counter[str]) -> None:  # fmt: skip
    """One acquire -> renew -> release; a full lease ends it after the acquire."""
    before, start = sum(calls.values()), time.perf_counter()
    lease = await leases.acquire("bench", resource, owner, ttl=10, capacity=capacity)
    times["acquire"].append(time.perf_counter() - start)
    trips["acquire"] += sum(calls.values()) - before
    if lease is None:
        trips["full"] += 1
        return
    for op in ("renew", "release"):
        before, start = sum(calls.values()), time.perf_counter()
        if op == "renew":
            await leases.renew("bench", resource, owner, lease.token, ttl=10)
        else:
            await leases.release("bench", resource, owner, lease.token)
        times[op].append(time.perf_counter() - start)
        trips[op] += sum(calls.values()) - before


async def run_one(url: str, owner: str, resource: str, n: int, capacity: int) -> dict[str, Any]:
    async with open_store(url) as store:
        calls = counting(store)
        return await cycle(LeaseService(store), calls, owner, resource, n, capacity)


async def contended(url: str, n: int) -> dict[str, Any]:
    results: list[dict[str, Any]] = []

    async def child(k: int) -> None:
        command = [sys.executable, __file__, "--child", url, f"p{k}", str(n)]
        done = await anyio.run_process(command, cwd=ROOT, stderr=subprocess.STDOUT, check=False)
        output = done.stdout.decode()
        if done.returncode:
            raise SystemExit(f"a contending process failed:\n{output}")
        results.append(json.loads(output.splitlines()[-1]))

    async with anyio.create_task_group() as tg:
        for k in range(PROCESSES):
            tg.start_soon(child, k)
    merged: dict[str, Any] = {"times": {}, "trips": Counter()}
    for result in results:
        for op, values in result["times"].items():
            merged["times"].setdefault(op, []).extend(values)
        merged["trips"].update(result["trips"])
    return merged


def rows(backend: str, mode: str, result: dict[str, Any]) -> list[str]:
    lines = []
    for op, values in result["times"].items():
        if not values:
            continue
        q = statistics.quantiles(values, n=100, method="inclusive")
        per_call = result["trips"][op] / len(values)
        trips = result["trips"]
        note = (
            f"{trips['full']} full, {trips['contention']} contention errors"
            if (op == "acquire" and mode != "alone")
            else ""
        )
        lines.append(
            f"{backend:<11}{mode:<13}{op:<9}{len(values):>7}{q[49] * 1000:>9.2f}"
            f"{q[98] * 1000:>9.2f}{per_call:>13.2f}  {note}"
        )
    return lines


def urls(stack: ExitStack, names: list[str]) -> dict[str, str]:
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
    known = {
        "memory": lambda: "memory://",
        "sqlite": lambda: f"sqlite:///{tmp / 'leases.db'}",
        "postgresql": lambda: stack.enter_context(services.postgres_schema()),
        "redis": lambda: stack.enter_context(services.redis_prefix()),
    }
    return {name: known[name]() for name in names}


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        url, owner, n = sys.argv[2:5]
        result = anyio.run(run_one, url, owner, "shared", int(n), 3)
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--backends", default="memory,sqlite,postgresql,redis")
    args = parser.parse_args()
    print(f"{'backend':<11}{'mode':<13}{'call':<9}{'n':>7}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'trips/call':>13}")  # fmt: skip
    with ExitStack() as stack:
        for name, url in urls(stack, args.backends.split(",")).items():
            alone = anyio.run(run_one, url, "solo", "alone", args.calls, 1)
            for line in rows(name, "alone", alone):
                print(line, flush=True)
            if name == "memory":  # one process only: nothing to contend with
                continue
            for line in rows(name, f"{PROCESSES} procs", anyio.run(contended, url, args.calls)):
                print(line, flush=True)


if __name__ == "__main__":
    main()
