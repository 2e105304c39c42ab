"""hublog's hub calls as an instance's history grows, and as the store fills
with hubs: per-call medians in µs, in the bench's own process, through the
public API only (``HubPersistenceAdapter(url)`` and its methods; the
history is written by ``store.append`` through ``adapter.session.store()``).

Growth: per backend and history size, a fresh store; one instance
registered by ``save_instance`` (last checked 20 h ago), its stream brought
to the size by health events and its metrics stream given as many samples
(:func:`hub_inputs.write_past`); then every call of :data:`hub_ops.OPS` in
turn, one untimed warm-up call and ``calls`` timed ones each.

Hub count: the same instance (history :attr:`HubSizes.count_history`) in a
store holding only its hub, and in one where ``hubs - 1`` other hubs each
hold one registered instance; both stores are built once per backend and
each round opens a fresh adapter on them.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from adapters.hub import HubPersistenceAdapter

from .hub_inputs import instance, register_in_past, write_past
from .hub_ops import OPS, Caller, each_op, median_us
from .hub_rig import HubSizes, hublog_url
from .places import Places
from .table import Row

HUB = "pool"
COUNT_OPS = ("load_instance", "save_metrics", "get_metrics_history", "acquire+release")
PORT = 11434


async def registered(adapter: Any, history: int) -> Caller:
    """The instance registered in :data:`HUB` with ``history`` events of past."""
    target = register_in_past(instance(PORT))
    await adapter.save_instance(HUB, target)
    await write_past(await adapter.session.store(), HUB, target.id, history)
    return Caller(adapter, HUB, target, next_sample=history)


async def growth_cell(url: str, history: int, calls: int) -> dict[str, float | Exception]:
    async with HubPersistenceAdapter(url) as adapter:
        caller = await registered(adapter, history)
        return await each_op(OPS, lambda op: median_us(caller, op, calls))


def result(figures: dict[str, float | Exception] | Exception, op: str) -> Any:
    """A measure handing :class:`Row` one op's figure (raising its failure)."""

    def take() -> float:
        found = figures if isinstance(figures, Exception) else figures[op]
        if isinstance(found, Exception):
            raise found
        return found

    return take


def column(n: int) -> str:
    return f"{n:,}"


class Growth:
    """One row per (backend, op); its results keyed by history size."""

    def __init__(self, places: Places, sizes: HubSizes, backends: tuple[str, ...]) -> None:
        self.places, self.sizes, self.backends = places, sizes, backends
        self.rows = {(b, op): Row(f"{b} {op}", "µs", None) for b in backends for op in OPS}

    async def round(self, n: int) -> None:
        for b in self.backends:
            for history in self.sizes.histories:
                url = hublog_url(self.places, b, f"growth_{b}_{history}_r{n}")
                began = time.perf_counter()
                try:
                    figures: Any = await growth_cell(url, history, self.sizes.calls)
                except Exception as exc:  # noqa: BLE001 - every op of the cell shows it
                    figures = exc
                for op in OPS:
                    await self.rows[b, op].measure(column(history), result(figures, op))
                took = time.perf_counter() - began
                print(f"  {took:6.1f} s  growth, {b}, {history:,} events", file=sys.stderr)


class HubCount:
    """One row per (backend, op); its results keyed "1 hub" and "N hubs"."""

    def __init__(self, places: Places, sizes: HubSizes, backends: tuple[str, ...]) -> None:
        self.places, self.sizes, self.backends = places, sizes, backends
        self.counts = (1, sizes.hubs)
        self.columns = {1: "1 hub", sizes.hubs: f"{sizes.hubs:,} hubs"}
        self.rows = {(b, op): Row(f"{b} {op}", "µs", None) for b in backends for op in COUNT_OPS}
        self.callers: dict[tuple[str, int], tuple[str, Caller]] = {}

    async def _built(self, backend: str, hubs: int) -> tuple[str, Caller]:
        """The store with ``hubs`` hubs (built on first use) and its caller."""
        if (backend, hubs) not in self.callers:
            began = time.perf_counter()
            url = hublog_url(self.places, backend, f"hubs_{backend}_{hubs}")
            async with HubPersistenceAdapter(url) as adapter:
                caller = await registered(adapter, self.sizes.count_history)
                for k in range(hubs - 1):
                    other = instance(PORT, host=f"10.1.{k // 250}.{k % 250}")
                    await adapter.save_instance(f"other-{k}", other)
            self.callers[backend, hubs] = url, caller
            took = time.perf_counter() - began
            print(f"  {took:6.1f} s  built {hubs:,} hub(s), {backend}", file=sys.stderr)
        return self.callers[backend, hubs]

    async def round(self, n: int) -> None:
        for b in self.backends:
            for hubs in self.counts:
                try:
                    figures: Any = await self._cell(b, hubs)
                except Exception as exc:  # noqa: BLE001 - every op of the cell shows it
                    figures = exc
                for op in COUNT_OPS:
                    await self.rows[b, op].measure(self.columns[hubs], result(figures, op))

    async def _cell(self, backend: str, hubs: int) -> dict[str, float | Exception]:
        url, caller = await self._built(backend, hubs)
        async with HubPersistenceAdapter(url) as adapter:
            caller.adapter = adapter  # a fresh adapter: nothing remembered
            return await each_op(COUNT_OPS, lambda op: median_us(caller, op, self.sizes.calls))
