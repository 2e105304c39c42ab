"""Rows that exist only once other work lands: each looks for the code it
measures (``bench/lease_latency.py``, ``bench/replay_speed.py``,
``HubPersistenceAdapter.record``) and reports "not yet" when it is absent.
hublog-only figures: there is no raw or peer counterpart."""

from __future__ import annotations

import contextlib
import importlib
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.contract.factories import sampled

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
    except ImportError:
        return False
    return hasattr(HubPersistenceAdapter, "record")


async def record_cost(url: str, hub: str, calls: int) -> float:
    """µs the caller waits per ``record()`` of one sample."""
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
