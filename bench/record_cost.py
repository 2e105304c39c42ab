"""What ``Recorder.record()`` costs the caller (p50/p99 µs), and the figures
of one overload run (recorded, coalesced, dropped, spilled, drained).

    python bench/record_cost.py [--url sqlite:///bench.db] [--events 50000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime

import anyio
import anyio.lowlevel

from adapters import open_store
from adapters.memory import MemoryEventStore
from eventstore import BackendUnavailable, HealthChecked, Metrics, MetricsSampled
from eventstore.recorder import Recorder

HUB = "bench-hub"


async def cost(url: str, events: int) -> None:
    now = datetime.now(UTC)
    async with open_store(url) as store, Recorder(store) as recorder:
        samples = [
            MetricsSampled(metrics=Metrics(request_count=n), sampled_at=now) for n in range(events)
        ]
        took = []
        for n, event in enumerate(samples):
            start = time.perf_counter_ns()
            recorder.record(HUB, f"metrics/i{n % 20}", event)
            took.append(time.perf_counter_ns() - start)
            if n % 500 == 0:
                await anyio.lowlevel.checkpoint()  # let the loop run, as a hub's would
        await recorder.flush()
    q = statistics.quantiles(took, n=100)
    print(
        f"record() on {url}: p50 {q[49] / 1000:.1f} µs, p99 {q[98] / 1000:.1f} µs ({events} calls)"
    )


class Outage(MemoryEventStore):
    down = False

    async def _append(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.down:
            raise BackendUnavailable("bench outage")
        return await super()._append(*args, **kwargs)


async def overload() -> None:
    """2 s of outage while 20 instances are sampled as fast as record() goes."""
    store, now = Outage(), datetime.now(UTC)
    with tempfile.TemporaryDirectory() as spill:
        async with Recorder(store, max_buffer=2000, spill_dir=spill, spill_after=0.5) as recorder:
            store.down = True
            deadline = anyio.current_time() + 2.0
            n = 0
            while anyio.current_time() < deadline:
                for _ in range(200):
                    recorder.record(
                        HUB,
                        f"metrics/i{n % 20}",
                        MetricsSampled(metrics=Metrics(request_count=n), sampled_at=now),
                    )
                    if n % 10 == 0:
                        recorder.record(HUB, "instance/i0", HealthChecked(ok=True, checked_at=now))
                    n += 1
                await anyio.lowlevel.checkpoint()
            store.down = False
            while not await recorder.drain_spill():
                await anyio.sleep(0.1)
            await recorder.flush()
    t = recorder.stats.total
    print(
        f"overload: recorded {t.recorded}, appended {t.appended}, coalesced {t.coalesced}, "
        f"dropped {dict(t.dropped)}, refused {t.refused}, spilled {t.spilled}, drained {t.drained}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="memory://")
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    anyio.run(cost, args.url, args.events)
    anyio.run(overload)


if __name__ == "__main__":
    main()
