"""``hublog rebuild``: drop read models and fold them again from position 0,
reporting progress (events/s, ETA) as it goes."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventstore.store import EventStore
from projections import Projection, ReadModelStore, rebuild, standard_projections

from .errors import InvalidInput


@dataclass
class Progress:
    """How far one rebuild is: position of ``head``, rate, time left."""

    hub_id: str
    projection: str
    head: int
    position: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.position / elapsed if elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        rate = self.rate
        return (self.head - self.position) / rate if rate > 0 else None

    def line(self) -> str:
        eta = "-" if self.eta is None else f"{self.eta:.0f}s"
        share = self.position / self.head if self.head else 1.0
        return (
            f"{self.hub_id} {self.projection}: {self.position:,}/{self.head:,} ({share:.0%}) "
            f"{self.rate:,.0f} events/s ETA {eta}"
        )


def choose(names: Sequence[str]) -> list[Projection[Any]]:
    """The standard projections named (all of them for none).

    Raises: InvalidInput for a name that is not one.
    """
    every = {p.name: p for p in standard_projections()}
    unknown = sorted(set(names) - set(every))
    if unknown:
        raise InvalidInput(f"unknown projection(s) {', '.join(unknown)}; known: {', '.join(every)}")
    return [every[n] for n in names] if names else list(every.values())


async def rebuild_one(
    store: EventStore,
    storage: ReadModelStore,
    projection: Projection[Any],
    hub_id: str,
    report: Callable[[Progress], None],
) -> Progress:
    progress = Progress(hub_id, projection.name, await store.head(hub_id))

    def on_batch(position: int) -> None:
        progress.position = position
        report(progress)

    progress.position = await rebuild(store, storage, projection, hub_id, on_batch=on_batch)
    return progress
