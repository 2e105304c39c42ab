"""Round trips per hub call: how many times one call reaches the event
store's primitives and the read-model store, on the warm path (the second
call of its kind on the same instance, same adapter), at the smallest and
the largest history of the growth rows.

Counted as ``tests/leases/test_round_trips.py`` counts a lease's: every
primitive is wrapped on the instance.  The primitives are the abstract
methods of ``EventStore`` and ``ReadModelStore`` (taken from the classes,
so a new one is counted too; the test's list leaves out ``_hubs``, which
``get_metrics_history`` and ``load_instance`` reach), and the events the
page reads return are added up as "events read".  A call's own round trips
(made in the calling task) are counted apart from those other tasks of the
adapter (a background catch-up, say) make while the call runs; before the
counted call the adapter is given a moment to settle.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import anyio

from adapters.hub import HubPersistenceAdapter
from eventstore.store import EventStore
from projections import ReadModelStore

from .hub_growth import registered
from .hub_ops import OPS
from .hub_rig import HubSizes, hublog_url
from .places import Places

PAGE_READS = ("_read_stream_page", "_read_log_page")
EVENTS_READ = "events read"


SETTLE_S = 0.05
Counts = tuple[Counter[str], Counter[str], Counter[str]]
"""A call's own store calls, its own read-model calls, other tasks' calls."""


def count_calls(target: Any, names: list[str], own: Counter[str], other: Counter[str]) -> None:
    """Wrap ``target``'s methods ``names``: each call adds 1 to ``own`` when
    made by the task that wrapped them, else to ``other``."""
    caller = anyio.get_current_task().id
    for name in names:
        inner = getattr(target, name)

        async def counted(*args: Any, _inner: Any = inner, _name: str = name, **kw: Any) -> Any:
            result = await _inner(*args, **kw)
            calls = own if anyio.get_current_task().id == caller else other
            calls[_name] += 1
            if _name in PAGE_READS:
                calls[EVENTS_READ] += len(result)
            return result

        setattr(target, name, counted)


async def warm_calls(url: str, history: int) -> dict[str, Counts]:
    """Per op: the calls its second call made (and other tasks made meanwhile)."""
    out = {}
    async with HubPersistenceAdapter(url) as adapter:
        caller = await registered(adapter, history)
        counts: Counts = (Counter(), Counter(), Counter())
        store_calls, storage_calls, other = counts
        count_calls(await adapter.session.store(), sorted(EventStore.__abstractmethods__),
                    store_calls, other)  # fmt: skip
        count_calls(await adapter.session.storage(), sorted(ReadModelStore.__abstractmethods__),
                    storage_calls, other)  # fmt: skip
        for op in OPS:
            call = caller.call(op)
            await call()
            await anyio.sleep(SETTLE_S)
            for c in counts:
                c.clear()
            await call()
            out[op] = (store_calls.copy(), storage_calls.copy(), other.copy())
    return out


class Trips:
    """Per backend, the warm-path counts at the smallest and largest history."""

    def __init__(self, places: Places, sizes: HubSizes, backends: tuple[str, ...]) -> None:
        self.places, self.backends = places, backends
        self.histories = (sizes.histories[0], sizes.histories[-1])
        self.counts: dict[tuple[str, int], dict[str, Counts]] = {}
        self.failed: dict[str, str] = {}

    async def measure(self) -> None:
        for b in self.backends:
            for history in self.histories:
                url = hublog_url(self.places, b, f"trips_{b}_{history}")
                try:
                    self.counts[b, history] = await warm_calls(url, history)
                except Exception as exc:  # noqa: BLE001 - reported under the table
                    self.failed[b] = f"{type(exc).__name__}: {exc}"


def total(calls: Counter[str]) -> int:
    return sum(n for name, n in calls.items() if name != EVENTS_READ)


def spelled(calls: Counter[str]) -> str:
    """``22 (append 1, read_stream_page 21; 10,000 events read)``; ``0`` when none."""
    parts = [f"{name.lstrip('_')} {n}" for name, n in sorted(calls.items()) if name != EVENTS_READ]
    if not parts:
        return "0"
    read = f"; {calls[EVENTS_READ]:,} events read" if calls[EVENTS_READ] else ""
    return f"{total(calls)} ({', '.join(parts)}{read})"
