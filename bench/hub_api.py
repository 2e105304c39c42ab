"""The hub API's cost per call as history grows, beside Gleitzeit 0.0.5's own
persistence adapters (issue 32).

    python bench/hub_api.py [--rounds 3] [--smoke] [--backends sqlite,postgresql,redis]

Prints four Markdown tables, each from the public hub API only
(``HubPersistenceAdapter(url)`` and Gleitzeit's method names):

1. per-call medians of each call at 100, 1,000 and 10,000 events already in
   the instance's stream (and as many samples in its metrics stream), and
   the ratio 10,000/100 (flat: ~1);
2. the same instance's calls with 1 hub and with 1,000 hubs in the store;
3. ops/s of each call, hublog beside Gleitzeit's ``UnifiedSQLAlchemyAdapter``
   / ``UnifiedRedisAdapter`` (each side in a child process, alternating),
   with what each side answered;
4. the event store's and the read-model store's calls per hub call (warm).

Rounds alternate (growth, hub count, side by side; then the next round) and
the tables show medians over rounds.  ``--smoke`` is a run of seconds on
tiny histories (for the tests: it checks the bench works; its numbers mean
nothing).  Data lives in a temp directory, fresh PostgreSQL schemas on
127.0.0.1:5432/test and a Redis key prefix of its own on 127.0.0.1:6379,
all removed afterwards.  The side-by-side table needs the ``gleitzeit``
extra.  Figures compare only within one run on one machine.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.figures import hub_table
from bench.figures.hub_growth import Growth, HubCount, column
from bench.figures.hub_inputs import HAVE_GLEITZEIT
from bench.figures.hub_peer import Beside
from bench.figures.hub_rig import BACKENDS, FULL, SMOKE, HubSizes
from bench.figures.hub_trips import Trips
from bench.figures.places import Places


async def run_rounds(parts: list[Any], rounds: int) -> None:
    for n in range(1, rounds + 1):
        started = time.perf_counter()
        for part in parts:
            began = time.perf_counter()
            await part.round(n)
            print(f"  {time.perf_counter() - began:6.1f} s  {type(part).__name__}", file=sys.stderr)
        print(f"round {n}/{rounds}: {time.perf_counter() - started:.1f} s", file=sys.stderr)


def commit() -> str:
    done = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                          capture_output=True, text=True, check=False)  # fmt: skip
    return done.stdout.strip() or "unknown"


def header(sizes: HubSizes, rounds: int) -> str:
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, python {platform.python_version()}, "
        f"hublog {commit()}, {rounds} round(s) (medians), "
        f"command: python bench/hub_api.py {' '.join(sys.argv[1:])}\n"
        f"inputs: {'Gleitzeit 0.0.5 objects' if HAVE_GLEITZEIT else 'duck types'}; "
        f"{sizes.calls} timed calls per cell (after a warm-up), "
        f"{sizes.peer_calls} per call beside Gleitzeit"
    )


def growth_table(growth: Growth, sizes: HubSizes) -> str:
    columns = [column(h) for h in sizes.histories]
    last = f"{columns[-1]}/{columns[0]}"
    return (
        "### Per call, by events already in the instance's stream\n\n"
        f"Median per call; the instance's metrics stream holds as many samples. "
        f"`save_instance` flips the status each call (2-4 events), so its "
        f"stream grows by ~{3 * (sizes.calls + 1)} events while measured.\n\n"
        + hub_table.by_column(growth.rows, columns, last)
    )


def count_table(count: HubCount, sizes: HubSizes) -> str:
    columns = list(count.columns.values())
    return (
        "### Per call, by hubs in the store\n\n"
        f"The instance has {sizes.count_history:,} events of history; each other hub "
        "holds one registered instance; a fresh adapter per round.\n\n"
        + hub_table.by_column(count.rows, columns, f"{columns[1]}/{columns[0]}")
    )


def beside_tables(beside: Beside, sizes: HubSizes) -> str:
    return (
        "### Beside Gleitzeit 0.0.5's own adapters\n\n"
        f"One hub of {sizes.peer_instances} instances; the measured one with "
        f"{sizes.peer_history:,} samples of history (and, on hublog's side, "
        f"{sizes.peer_history:,} events in its stream); each side in a child process. "
        "ops/s: higher is better; the ratio > 1 means hublog is faster.\n\n"
        + hub_table.side_by_side(beside.rows)
        + "\n\nWhat the calls answered:\n\n"
        + hub_table.answers(beside.answers)
        + "".join(
            f"\n\nfirst error logged, {b}/{side}: {error}"
            for (b, side), error in beside.first_errors.items()
        )
    )


def trips_table(trips: Trips) -> str:
    return (
        "### Store calls per hub call (warm: the second call on the same instance)\n\n"
        "The call's own calls to the event store's primitives (with the events its "
        "page reads returned) and to the read-model store; then the calls other tasks "
        "of the adapter (a background catch-up) made while it ran.\n\n" + hub_table.trips(trips)
    )


async def main(args: argparse.Namespace) -> None:
    sizes = SMOKE if args.smoke else FULL
    rounds = args.rounds or (1 if args.smoke else 3)
    backends = tuple(b for b in args.backends.split(",") if b)
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        raise SystemExit(f"unknown backend(s) {sorted(unknown)}; choose from {BACKENDS}")
    with Places() as places:
        growth = Growth(places, sizes, backends)
        count = HubCount(places, sizes, backends)
        beside = Beside(places, sizes, backends) if HAVE_GLEITZEIT else None
        trips = Trips(places, sizes, backends)
        await run_rounds([p for p in (growth, count, beside) if p is not None], rounds)
        began = time.perf_counter()
        await trips.measure()
        print(f"  {time.perf_counter() - began:6.1f} s  round trips", file=sys.stderr)
    tables = [growth_table(growth, sizes), count_table(count, sizes)]
    if beside is None:
        tables.append("Gleitzeit is not installed: no side-by-side (pip install -e '.[gleitzeit]')")
    else:
        tables.append(beside_tables(beside, sizes))
    tables.append(trips_table(trips))
    print(header(sizes, rounds), *tables, sep="\n\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=0, help="rounds (default 3; smoke: 1)")
    parser.add_argument("--smoke", action="store_true", help="a run of seconds on tiny histories")
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help="comma-separated, of: " + ", ".join(BACKENDS))  # fmt: skip
    anyio.run(main, parser.parse_args())
