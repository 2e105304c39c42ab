"""Cross-process follow latency per backend, and what an idle subscriber costs, in one run.

    python bench/follow_latency.py [--events 200] [--interval 0.02] [--idle 10]
        [--backends sqlite,postgresql,redis] [--sql-options 'poll_interval=0.1&listen=false']

For each backend a subscriber process follows a hub while a writer process
appends one event every --interval seconds.  The latency of an event (p50,
p99, max) is the time from the writer's ``append`` returning (the append
acknowledged) to the subscriber holding the event, on this machine's wall
clock; "from call" counts from the writer calling ``append``, so it adds the
append itself.  The first 5 events are warm-up and left out.  Then the subscriber keeps following with nothing
appended for --idle seconds, and its process CPU time over that wall time is
the idle cost.  --sql-options is added to the SQLite and PostgreSQL URLs
(``poll_interval=0.1&listen=false&change_check_interval=0`` is the poll of
old).  Needs PostgreSQL and Redis as the tests do (tests/services.py).
Figures are meaningful within one run on one machine only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, aclosing
from datetime import UTC, datetime
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters import open_store
from eventstore import HealthChecked
from tests import services

HUB = "bench"
WARM_UP = 5


async def write(url: str, events: int, interval: float) -> None:
    """The writer process: one event every ``interval``; prints when each
    append was called and when it returned, by position."""
    called, acked = {}, {}
    async with open_store(url) as store:
        start = time.monotonic()
        for i in range(events):
            before = time.time()
            event = HealthChecked(ok=True, checked_at=datetime.now(UTC), latency_ms=1.0)
            position = (await store.append(HUB, "instance/bench", [event])).last_position
            called[position], acked[position] = before, time.time()
            await anyio.sleep(max(0.0, start + (i + 1) * interval - time.monotonic()))
    print(json.dumps({"called": called, "acked": acked}), flush=True)


async def subscribe(url: str, events: int, idle: float) -> None:
    """The subscriber process: prints "ready", then when it held each event
    (by position) and its CPU time over wall time while idle."""
    delivered = {}
    async with open_store(url) as store, aclosing(store.subscribe(HUB)) as following:
        print("ready", flush=True)
        async for recorded in following:
            delivered[recorded.position] = time.time()
            if len(delivered) == events:
                break
        cpu, wall = time.process_time(), time.monotonic()
        with anyio.move_on_after(idle):
            async with aclosing(store.subscribe(HUB, after=events)) as idling:
                async for _ in idling:
                    pass
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    print(json.dumps({"delivered": delivered, "idle_cpu": cpu / wall}), flush=True)


def role(name: str, url: str, args: argparse.Namespace) -> list[str]:
    return [
        sys.executable,
        __file__,
        f"--role={name}",
        f"--url={url}",
        f"--events={args.events}",
        f"--interval={args.interval}",
        f"--idle={args.idle}",
    ]


def measure(url: str, args: argparse.Namespace) -> dict[str, float]:
    subscriber = subprocess.Popen(role("subscriber", url, args), stdout=subprocess.PIPE, text=True)
    assert subscriber.stdout is not None
    assert subscriber.stdout.readline().strip() == "ready"
    time.sleep(0.5)  # let it settle into its wait
    writer = subprocess.run(role("writer", url, args), capture_output=True, text=True, check=True)
    written, read = json.loads(writer.stdout), json.loads(subscriber.stdout.readline())
    subscriber.wait(timeout=60)
    positions = sorted(read["delivered"], key=int)[WARM_UP:]

    def after(moments: dict[str, float]) -> list[float]:
        return sorted((read["delivered"][p] - moments[p]) * 1000 for p in positions)

    acked, called = after(written["acked"]), after(written["called"])
    return {
        "p50 ms": statistics.median(acked),
        "p99 ms": percentile(acked, 0.99),
        "max ms": acked[-1],
        "from call p50": statistics.median(called),
        "from call p99": percentile(called, 0.99),
        "idle CPU %": 100 * read["idle_cpu"],
    }


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def urls(stack: ExitStack, names: list[str], sql_options: str) -> dict[str, str]:
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))

    def sql(url: str) -> str:
        return f"{url}{'&' if '?' in url else '?'}{sql_options}" if sql_options else url

    async def create(url: str) -> None:
        async with open_store(url):  # created and migrated before both processes open it
            pass

    def sqlite() -> str:
        url = sql(f"sqlite:///{tmp / 'follow.db'}")
        anyio.run(create, url)
        return url

    known = {
        "sqlite": sqlite,
        "postgresql": lambda: sql(stack.enter_context(services.postgres_schema())),
        "redis": lambda: stack.enter_context(services.redis_prefix()),
    }
    return {name: known[name]() for name in names}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--backends", default="sqlite,postgresql,redis")
    parser.add_argument("--sql-options", default="")
    parser.add_argument("--role", choices=["writer", "subscriber"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "writer":
        return anyio.run(write, args.url, args.events, args.interval)
    if args.role == "subscriber":
        return anyio.run(subscribe, args.url, args.events, args.idle)
    with ExitStack() as stack:
        table = {
            name: measure(url, args)
            for name, url in urls(stack, args.backends.split(","), args.sql_options).items()
        }
    columns = list(next(iter(table.values())))
    print(f"{args.events} events, one every {args.interval * 1000:.0f} ms; idle {args.idle:.0f} s")
    print(f"{'backend':<12}" + "".join(f"{c:>15}" for c in columns))
    for name, row in table.items():
        print(f"{name:<12}" + "".join(f"{row[c]:>15.2f}" for c in columns))


if __name__ == "__main__":
    main()
