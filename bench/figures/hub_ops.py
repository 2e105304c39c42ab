"""The hub calls every hub-API figure times, on any adapter with Gleitzeit's
method names (hublog's ``HubPersistenceAdapter`` and Gleitzeit 0.0.5's own
``UnifiedSQLAlchemyAdapter`` / ``UnifiedRedisAdapter`` alike).

One :class:`Caller` plays a hub with one instance: it saves the instance on
every health check (its status flipping healthy <-> degraded, so every save
has something to record), saves a sample, asks for the history of one
sample's window, takes and gives back a lock, loads and lists.  Each call
also notes what it got back, so a wrong answer shows beside its speed.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from .hub_inputs import metrics, naive_utc_now, set_health

OPS = ("load_instance", "list_instances", "save_metrics", "get_metrics_history",
       "acquire+release", "save_instance")  # fmt: skip
"""In the order they are measured: the writes to the instance's own stream
last, so the reads see the history as it was built."""
OWNER = "bench-node"


class Caller:
    def __init__(self, adapter: Any, hub: str, target: Any, next_sample: int = 0) -> None:
        self.adapter, self.hub, self.target = adapter, hub, target
        self.next_sample = next_sample
        self.windows: list[tuple[datetime, datetime]] = []
        self.healthy = True
        self.answers: Counter[str] = Counter()

    def call(self, op: str) -> Callable[[], Awaitable[None]]:
        """The call ``op``, counted in ``answers["calls: <op>"]``."""
        method = {
            "load_instance": self.load_instance, "list_instances": self.list_instances,
            "save_metrics": self.save_metrics, "get_metrics_history": self.get_metrics_history,
            "acquire+release": self.acquire_release, "save_instance": self.save_instance,
        }[op]  # fmt: skip

        async def counted() -> None:
            await method()
            self.answers[f"calls: {op}"] += 1

        return counted

    async def save_instance(self) -> None:
        self.healthy = not self.healthy
        set_health(self.target, self.healthy)
        await self.adapter.save_instance(self.hub, self.target)

    async def load_instance(self) -> None:
        found = await self.adapter.load_instance(self.target.id)
        self.answers["load: status as saved"] += self._as_saved(found)
        self.answers["load: with config"] += bool(found and found.get("config"))

    async def check_after_saves(self) -> None:
        """One load after the saves: is the status the last one saved?"""
        found = await self.adapter.load_instance(self.target.id)
        self.answers["after saves: status as saved"] += self._as_saved(found)
        self.answers["after saves: checks"] += 1

    def _as_saved(self, found: dict[str, Any] | None) -> bool:
        return found is not None and found.get("status") == self.target.status.value

    async def list_instances(self) -> None:
        listed = await self.adapter.list_instances(self.hub)
        self.answers["list: has the instance"] += any(i["id"] == self.target.id for i in listed)

    async def save_metrics(self) -> None:
        sample = metrics(self.next_sample)
        self.next_sample += 1
        before = naive_utc_now()
        await self.adapter.save_metrics(self.target.id, sample)
        self.windows.append((before, naive_utc_now()))

    async def get_metrics_history(self) -> None:
        """The history of a window around one sample (the ones saved by
        :meth:`save_metrics`, in turn; a fresh one when there are none)."""
        if not self.windows:
            await self.save_metrics()
        turn = self.answers["calls: get_metrics_history"]
        start, end = self.windows[turn % len(self.windows)]
        entries = await self.adapter.get_metrics_history(self.target.id, start, end)
        self.answers["history: entries"] += len(entries)

    async def acquire_release(self) -> None:
        got = await self.adapter.acquire_lock(self.target.id, OWNER, 30)
        self.answers["lock: granted"] += bool(got)
        await self.adapter.release_lock(self.target.id, OWNER)


async def timed_calls(call: Callable[[], Awaitable[None]], calls: int) -> list[float]:
    """Seconds of each of ``calls`` calls, after one untimed warm-up call
    (which opens connections and catches read models up)."""
    await call()
    took = []
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        took.append(time.perf_counter() - started)
    return took


async def median_us(caller: Caller, op: str, calls: int) -> float:
    return statistics.median(await timed_calls(caller.call(op), calls)) * 1e6


async def ops_per_s(caller: Caller, op: str, calls: int) -> float:
    return calls / sum(await timed_calls(caller.call(op), calls))


async def each_op(
    ops: tuple[str, ...], measure: Callable[[str], Awaitable[float]]
) -> dict[str, float | Exception]:
    """``measure(op)`` for every op in turn; a failure is kept as the op's
    result (and the others are still measured)."""
    results: dict[str, float | Exception] = {}
    for op in ops:
        try:
            results[op] = await measure(op)
        except Exception as exc:  # noqa: BLE001 - the table shows it in the op's cell
            results[op] = exc
    return results
