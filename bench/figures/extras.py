"""Rows that exist only once other work lands: each looks for the code it
measures (``bench/lease_latency.py``, ``bench/replay_speed.py``,
``bench/follow_latency.py``, ``HubPersistenceAdapter.record``) and reports
"not yet" when it is absent.  hublog-only figures: there is no raw or peer
counterpart."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio

from tests.eventstore.contract.factories import sampled

from .table import Named

BENCH = Path(__file__).resolve().parents[1]


def module(name: str) -> Any | None:
    """``bench/<name>.py`` imported, or None while it does not exist."""
    if not (BENCH / f"{name}.py").is_file():
        return None
    return importlib.import_module(f"bench.{name}")


def record_present() -> bool:
    try:
        from adapters.hub.adapter import HubPersistenceAdapter
        from eventstore.recorder import Recorder
    except ImportError:
        return False
    return hasattr(HubPersistenceAdapter, "record") and hasattr(Recorder, "record")


async def record_cost(url: str, hub: str, calls: int) -> Named:
    """µs the caller of ``Recorder.record()`` waits per sample (p50, p99):
    what a hub's hot path pays; the append happens behind it, and the
    recorder is flushed (everything durable) before it closes."""
    from adapters import open_store
    from eventstore.recorder import Recorder

    async with open_store(url) as store, Recorder(store) as recorder:
        samples = [sampled(n) for n in range(calls)]
        took = []
        for n, event in enumerate(samples):
            started = time.perf_counter_ns()
            recorder.record(hub, f"metrics/i{n % 20}", event)
            took.append(time.perf_counter_ns() - started)
            if n % 100 == 0:
                await anyio.sleep(0)  # let the loop run, as a hub's would
        await recorder.flush()
    q = statistics.quantiles(took, n=100, method="inclusive")
    return Named({"p50": q[49] / 1000, "p99": q[98] / 1000})


async def awaited_record_cost(url: str, hub: str, calls: int) -> float:
    """µs per ``HubPersistenceAdapter.record()`` of one sample: the hub API's
    awaited path, which returns once the append is durable."""
    from adapters.hub.adapter import HubPersistenceAdapter

    async with HubPersistenceAdapter(url) as adapter:
        await adapter.record(hub, "metrics/warm-up", [sampled()])
        pending = [[sampled(n)] for n in range(calls)]
        started = time.perf_counter()
        for events in pending:
            await adapter.record(hub, "metrics/recorded", events)
        return (time.perf_counter() - started) / calls * 1e6


async def lease_acquire(lease_latency: Any, url: str, resource: str, calls: int) -> Named:
    """Uncontended acquire latency, p50 and p99 in ms (bench/lease_latency.py)."""
    result = await lease_latency.run_one(url, "solo", resource, calls, 1)
    times = result["times"]["acquire"]
    q = statistics.quantiles(times, n=100, method="inclusive")
    return Named({"p50": q[49] * 1000, "p99": q[98] * 1000})


class Replay:
    """The 1M-event SQLite log of ``bench/replay_speed.py``, built once, then
    ``hublog state --at`` and ``hublog events --since`` timed as the CLI runs
    them (fresh processes, best of ``repeats``)."""

    def __init__(self, replay_speed: Any, path: Path, events: int, repeats: int) -> None:
        self.replay, self.url, self.events = replay_speed, f"sqlite:///{path}", events
        self.repeats = repeats
        self.end: Any = None

    def timed(self, *args: str) -> float:
        """Best wall time of ``hublog --url URL ARGS`` over the repeats."""
        command = [str(Path(sys.executable).with_name("hublog")), "--url", self.url, *args]
        best = float("inf")
        for _ in range(self.repeats):
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True)
            best = min(best, time.perf_counter() - started)
        return best

    async def _built(self) -> None:
        if self.end is None:
            with contextlib.redirect_stdout(sys.stderr):  # its progress lines, not our table
                self.end = await self.replay.build(self.url, self.events)

    async def state_at(self) -> float:
        await self._built()
        at = f"@{self.events - 500}"
        return self.timed("state", "--hub", self.replay.HUB, "--at", at)

    async def events_since(self) -> float:
        await self._built()
        since = (self.end - timedelta(minutes=5)).isoformat()
        return self.timed("events", "--hub", self.replay.HUB, "--since", since)


class Follow:
    """``bench/follow_latency.py``'s ``measure``: a writer process appending
    one event every 20 ms, a subscriber process following, then idling.  One
    run per (backend, round) yields both figures — its latency row, then its
    idle-CPU row — on fresh data of its own (its hub name is fixed, so a log
    reused across rounds would hand the subscriber old events)."""

    def __init__(self, follow_latency: Any, events: int, idle: float) -> None:
        self.follow = follow_latency
        self.args = argparse.Namespace(events=events, interval=0.02, idle=idle)
        self.last: dict[str, dict[str, float]] = {}

    def latency(self, backend: str) -> Any:
        async def measure() -> Named:
            # In a thread: follow_latency creates a SQLite log with anyio.run,
            # which cannot run inside the suite's event loop.
            result = await anyio.to_thread.run_sync(self._run, backend)
            self.last[backend] = result
            return Named({"p50": result["p50 ms"], "p99": result["p99 ms"]})

        return measure

    def _run(self, backend: str) -> dict[str, float]:
        with contextlib.ExitStack() as stack:
            url = self.follow.urls(stack, [backend], "")[backend]
            return dict(self.follow.measure(url, self.args))

    def idle_cpu(self, backend: str) -> Any:
        return lambda: self.last[backend]["idle CPU %"]
