"""hublog beside the raw drivers and the `eventsourcing` peer, in one run.

    python bench/suite.py [--rounds 3] [--smoke]

Measures every figure of issue 13 in alternating rounds (for each row:
hublog, raw driver, peer; then the next row; then the next round) and
prints one Markdown table of medians with the ratios hublog/raw and
hublog/peer.  ``--smoke`` is a few-second run on tiny logs (for the tests:
it checks the suite works, its numbers mean nothing).  Data lives in a temp
directory, fresh PostgreSQL schemas on 127.0.0.1:5432/test and a Redis key
prefix of its own on 127.0.0.1:6379, all removed afterwards.  The peer
columns need the bench extra: ``pip install -e '.[bench]'``.  Figures are
only comparable within one run on one machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import sys
import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.figures import ours
from bench.figures.places import Places
from bench.figures.rig import FULL, SMOKE, Rig
from bench.figures.rows_log import append_rows, read_rows
from bench.figures.rows_process import extra_rows, import_rows, rebuild_rows, writer_rows
from bench.figures.table import Row, render


def all_rows(rig: Rig) -> list[Row]:
    return [*append_rows(rig), *read_rows(rig), *rebuild_rows(rig), *writer_rows(rig),
            *import_rows(rig), *extra_rows(rig)]  # fmt: skip


async def run_rounds(rows: list[Row], rounds: int) -> None:
    for n in range(1, rounds + 1):
        started = time.perf_counter()
        for row in rows:
            if not row.present:
                continue
            began = time.perf_counter()
            for side, measure in row.sides():
                await row.measure(side, measure)
            print(f"  {time.perf_counter() - began:6.2f} s  {row.label}", file=sys.stderr)
        print(f"round {n}/{rounds}: {time.perf_counter() - started:.1f} s", file=sys.stderr)


def header(rig: Rig, rounds: int) -> str:
    s = rig.sizes
    peer_bytes = ""
    if rig.with_peer:
        from bench.figures import peer

        peer_bytes = f", eventsourcing {peer.payload_bytes(rig.peers['sqlite', 'write'])} B"
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, python {platform.python_version()}, "
        f"{rounds} rounds (medians), command: python bench/suite.py {' '.join(sys.argv[1:])}\n"
        f"sample payload: hublog {ours.payload_bytes()} B{peer_bytes}; "
        f"batches of {s.batch} x {s.batches}, {s.singles} single appends, "
        f"{s.writer_events} per writer process"
    )


async def main(args: argparse.Namespace) -> None:
    with_peer = importlib.util.find_spec("eventsourcing") is not None
    rounds = args.rounds or (1 if args.smoke else 3)
    with Places() as places:
        rig = Rig(places, SMOKE if args.smoke else FULL, with_peer)
        try:
            async with AsyncExitStack() as stack:
                await rig.open(stack)
                rows = all_rows(rig)
                await run_rounds(rows, rounds)
                print(header(rig, rounds))
        finally:
            rig.close()
    print(render(rows))
    if not with_peer:
        print("eventsourcing is not installed: no peer columns (pip install -e '.[bench]')")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=0, help="rounds (default 3; smoke: 1)")
    parser.add_argument("--smoke", action="store_true", help="a few-second run on tiny logs")
    anyio.run(main, parser.parse_args())
