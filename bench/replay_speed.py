"""How fast the replay tool answers on a big log: a 1,000,000-event SQLite
log (20 instances checked and sampled over ~7 days), built through the
import primitive in big batches, with the hub projection's snapshots.

Measures, as an on-call engineer runs them (a fresh ``hublog`` process):
``hublog state --at`` near the end (target < 2 s) and ``hublog events
--since`` a 5-minute window (target < 1 s).  Speed is measured here, never
asserted in tests.

    python bench/replay_speed.py [--events 1000000] [--path /tmp/replay-bench.db]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio

from adapters import open_store, readmodel_store_for
from eventstore import (
    HealthChecked,
    InstanceRegistered,
    Metrics,
    MetricsSampled,
    ResourceType,
    streams,
)
from eventstore.codec import DEFAULT_CODEC
from eventstore.envelope import StoredEvent
from projections import HubProjection, rebuild

HUB = "bench-pool"
INSTANCES = 20
SPACING = timedelta(seconds=0.6)  # 100 events a minute: 500 in a 5-minute window
BATCH = 20_000


def _event(n: int, at: datetime) -> tuple[str, object]:
    instance = f"ollama-{n % INSTANCES + 1}"
    if n < INSTANCES:
        return streams.instance(instance), InstanceRegistered(
            name=instance, resource_type=ResourceType.OLLAMA, endpoint=f"http://10.0.0.{n}:11434"
        )
    if n % 2:
        return streams.instance(instance), HealthChecked(ok=n % 97 != 0, checked_at=at)
    metrics = Metrics(cpu_percent=n % 90, avg_response_time_ms=300 + n % 500, request_count=n)
    return streams.metrics(instance), MetricsSampled(metrics=metrics, sampled_at=at)


def _batches(total: int, start: datetime):  # type: ignore[no-untyped-def]
    versions: dict[str, int] = {}
    batch = []
    for n in range(total):
        at = start + n * SPACING
        stream, event = _event(n, at)
        encoded = DEFAULT_CODEC.encode(event)  # type: ignore[arg-type]
        versions[stream] = versions.get(stream, 0) + 1
        batch.append(
            StoredEvent(
                hub_id=HUB,
                stream=stream,
                version=versions[stream],
                position=n + 1,
                event_id=encoded.event_id,
                type=encoded.type,
                schema_version=encoded.schema_version,
                data=encoded.data,
                recorded_at=at,
            )
        )
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


async def build(url: str, total: int) -> datetime:
    start = datetime(2025, 6, 1, tzinfo=UTC)
    began = time.perf_counter()
    async with open_store(url) as store:
        for batch in _batches(total, start):
            await store.import_events(HUB, batch)
        built = time.perf_counter() - began
        print(
            f"built {total:,} events by import_events in {built:.1f} s "
            f"({total / built:,.0f} events/s)"
        )
        began = time.perf_counter()
        async with readmodel_store_for(store) as storage:
            await rebuild(store, storage, HubProjection(), HUB)
        print(
            f"hub projection rebuilt (snapshots every 1000) in {time.perf_counter() - began:.1f} s"
        )
    return start + (total - 1) * SPACING


def timed(*args: str) -> float:
    command = Path(sys.executable).with_name("hublog")
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        done = subprocess.run([str(command), *args], capture_output=True, check=False)
        best = min(best, time.perf_counter() - began)
        if done.returncode != 0:
            raise SystemExit(done.stderr.decode())
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--path", type=Path, default=Path("/tmp/replay-bench.db"))
    parser.add_argument("--reuse", action="store_true", help="Time a log built before.")
    args = parser.parse_args()
    url = f"sqlite:///{args.path}"
    if args.reuse and args.path.exists():
        end = datetime(2025, 6, 1, tzinfo=UTC) + (args.events - 1) * SPACING
    else:
        args.path.unlink(missing_ok=True)
        end = anyio.run(build, url, args.events)
    near_end = f"@{args.events - 500}"
    since = (end - timedelta(minutes=5)).isoformat()
    state = timed("--url", url, "state", "--hub", HUB, "--at", near_end)
    events = timed("--url", url, "events", "--hub", HUB, "--since", since)
    baseline = timed("--url", url, "hubs")
    print(f"hublog state --at {near_end}:            {state:.2f} s (target < 2 s)")
    print(f"hublog events --since (5 minutes, ~500):  {events:.2f} s (target < 1 s)")
    print(f"hublog hubs (process start-up baseline):  {baseline:.2f} s")


if __name__ == "__main__":
    main()
