"""Projection throughput: the pure folds, and runners storing on each backend.

    python bench/projections_throughput.py [--instances 10] [--hours 6] [--backends memory,sqlite,postgresql,redis]

Writes a hub's log — per instance, a sample and a health check every 30 s,
a lease grant every 5 minutes — then prints events per second for: each
projection folded in memory (no storage), each projection's runner catching
up from 0 into each backend's read-model storage (batches of 500), a
``state_at`` in the middle of the log with and without snapshots, and one
retention run.  Numbers are only comparable within one run on one machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters import open_store, readmodel_store_for
from eventstore import EventStore, HealthChecked, LockGranted, Metrics, MetricsSampled
from projections import ProjectionRunner, fold, standard_projections, state_at
from projections.deciders.retention import retain
from projections.folding import Folder
from projections.policy import floor_to
from tests import services
from tests.projections.script import Script

HUB = "bench-pool"


async def write_log(store: EventStore, instances: int, hours: float) -> int:
    script = Script(store, HUB)
    await script.started()
    end = floor_to(await store.now(), 60)
    steps = int(hours * 120)
    for n in range(instances):
        iid = f"ollama-{n:02d}"
        await script.healthy(iid)
        samples, checks, grants = [], [], []
        for k in range(steps):
            at = end - timedelta(seconds=30 * (steps - k))
            metrics = Metrics(cpu_percent=float(k % 90), request_count=10 * k, error_count=k // 20)
            samples.append(MetricsSampled(metrics=metrics, sampled_at=at))
            checks.append(HealthChecked(ok=True, checked_at=at, latency_ms=5.0))
            if k % 10 == 0:
                expires = at + timedelta(seconds=60)
                grants.append(
                    LockGranted(owner="node-a", token=k // 10 + 1, ttl_s=60, expires_at=expires)
                )
        for chunk in range(0, steps, 2000):
            await store.append(HUB, f"metrics/{iid}", samples[chunk : chunk + 2000])
            await store.append(HUB, f"instance/{iid}", checks[chunk : chunk + 2000])
        await store.append(HUB, f"lock/{iid}", grants)
    return await store.head(HUB)


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:10,.0f} events/s  ({seconds:6.2f} s)"


async def bench_backend(kind: str, url: str, args: argparse.Namespace) -> None:
    async with open_store(url) as store, readmodel_store_for(store) as storage:
        head = await write_log(store, args.instances, args.hours)
        events = [e async for e in store.read_log(HUB)]
        if kind == args.backends[0]:
            print(f"log: {head} events")
            for projection in standard_projections():
                started = time.perf_counter()
                folder = Folder(projection)
                for event in events:
                    folder.add(event)
                folder.flush()
                print(
                    f"  fold {projection.name:8} in memory        {rate(head, time.perf_counter() - started)}"
                )
            started = time.perf_counter()
            fold(standard_projections()[0], events)
            print(
                f"  fold hub all at once (apply only)  {rate(head, time.perf_counter() - started)}"
            )
        for projection in standard_projections():
            started = time.perf_counter()
            await ProjectionRunner(store, storage, projection, HUB).catch_up()
            print(
                f"  {kind:10} runner {projection.name:8}      {rate(head, time.perf_counter() - started)}"
            )
        for label, target in (("snapshots", storage), ("no snapshot", None)):
            started = time.perf_counter()
            view = await state_at(store, target, HUB, position=head // 2)
            print(
                f"  {kind:10} state_at middle, {label:11} {time.perf_counter() - started:6.3f} s, replayed {view.replayed}"
            )
        started = time.perf_counter()
        report = await retain(
            store, storage, HUB, now=await store.now() + timedelta(hours=24 - args.hours / 2)
        )
        print(
            f"  {kind:10} retention: {report.samples_removed} samples removed in {time.perf_counter() - started:.2f} s"
        )


async def main(args: argparse.Namespace) -> None:
    with ExitStack() as stack:
        for kind in args.backends:
            if kind == "memory":
                url = "memory://"
            elif kind == "sqlite":
                url = f"sqlite:///{stack.enter_context(tempfile.TemporaryDirectory())}/bench.db"
            elif kind == "postgresql":
                url = stack.enter_context(services.postgres_schema())
            else:
                url = stack.enter_context(services.redis_prefix())
            await bench_backend(kind, url, args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--instances", type=int, default=10)
    parser.add_argument("--hours", type=float, default=6)
    parser.add_argument(
        "--backends", type=lambda s: s.split(","), default="memory,sqlite,postgresql,redis"
    )
    anyio.run(main, parser.parse_args())
