"""What a hub's log here holds of the hub's history: from which position on,
and whether an export it was imported from left events out.

A log imported from ``hublog export --since @300`` starts at position 300;
one imported from ``hublog export --type HealthChanged`` holds only those
events.  Folded as if it were whole, such a log shows instances that were
registered before it starts as missing and its gaps as corruption.  So an
export that leaves something out writes a header line first (see
:mod:`.jsonl`), import keeps the header beside the read models (projection
:data:`IMPORTS`, which nothing rebuilds or drops), and ``state``, ``diff``,
``report`` and ``verify`` say in one line what the log holds.
"""

from __future__ import annotations

from contextlib import aclosing
from dataclasses import dataclass

import msgspec

from eventstore.store import EventStore
from projections import ReadModelStore
from projections.readmodel_store import Commit

from .filters import EventFilter

IMPORTS = "imports"
"""Where import keeps the headers of partial exports, per hub (not a read
model: it cannot be rebuilt from the log, so no rebuild drops it)."""
_HEADERS = "headers"
_FINGERPRINT = "export-headers-1"


class ExportHeader(msgspec.Struct, frozen=True, kw_only=True):
    """What an export of one hub holds: positions ``first_position`` to
    ``last_position``, only the events its ``filters`` kept (as typed, e.g.
    ``--type HealthChanged``; those of the log it was exported from too)."""

    hub_id: str
    first_position: int
    last_position: int
    filters: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        return self.first_position > 1 or bool(self.filters)

    def describe(self) -> str:
        kept = f", only {' '.join(self.filters)}" if self.filters else ""
        return f"positions {self.first_position}..{self.last_position}{kept}"


@dataclass(frozen=True)
class Coverage:
    """What the log of ``hub_id`` holds: events from position ``first`` on
    (0: none at all), and the ``filters`` of the exports it came from."""

    hub_id: str
    first: int
    filters: tuple[str, ...] = ()

    @property
    def starts_late(self) -> bool:
        return self.first > 1

    @property
    def partial(self) -> bool:
        return self.starts_late or bool(self.filters)

    def line(self) -> str | None:
        """One line saying what is missing, or None for a whole log."""
        if not self.partial:
            return None
        parts = []
        if self.starts_late:
            parts.append(f"log starts at @{self.first}: earlier state unknown")
        if self.filters:
            parts.append(
                f"log holds only the events a filtered export kept ({' '.join(self.filters)}): "
                "the others are unknown"
            )
        return "; ".join(parts)

    def as_json(self) -> dict[str, object]:
        return {"log_starts_at": self.first, "log_filters": list(self.filters)}


async def first_position(store: EventStore, hub_id: str) -> int:
    """The position of the hub's first event here (0 when it has none)."""
    async with aclosing(store.read_log(hub_id, limit=1)) as events:
        async for event in events:
            return event.position
    return 0


async def coverage(store: EventStore, storage: ReadModelStore | None, hub_id: str) -> Coverage:
    """What the log of ``hub_id`` holds (``storage``: where import kept headers)."""
    filters: list[str] = []
    first = await first_position(store, hub_id)
    for header in await kept(storage, hub_id):
        filters += [f for f in header.filters if f not in filters]
        if header.filters:  # where the export began, not where its first match happens to be
            first = min(first, header.first_position)
    return Coverage(hub_id, first, tuple(filters))


def filters_of(selection: EventFilter) -> tuple[str, ...]:
    """An export's filters as typed on the command line."""
    found = []
    if selection.instance:
        found.append(f"--instance {selection.instance}")
    if selection.types:
        found.append(f"--type {','.join(sorted(selection.types))}")
    if selection.stream:
        found.append(f"--stream {selection.stream}")
    if selection.correlation:
        found.append(f"--correlation {selection.correlation}")
    return tuple(found)


async def header_for(
    store: EventStore,
    storage: ReadModelStore | None,
    hub_id: str,
    selection: EventFilter,
) -> ExportHeader:
    """What an export of ``selection`` from this log holds."""
    held = await coverage(store, storage, hub_id)
    last = selection.last
    if last is None:  # to the end: of this log, or of the export it came from
        ends = [h.last_position for h in await kept(storage, hub_id)]
        last = max([await store.head(hub_id), *ends])
    return ExportHeader(
        hub_id=hub_id,
        first_position=max(selection.after + 1, held.first),
        last_position=last,
        filters=(*filters_of(selection), *(f for f in held.filters)),
    )


async def kept(storage: ReadModelStore | None, hub_id: str) -> list[ExportHeader]:
    """The headers import kept for ``hub_id``, oldest first."""
    if storage is None:
        return []
    rows = await storage.scan(IMPORTS, hub_id, _HEADERS)
    return [msgspec.msgpack.decode(data, type=ExportHeader) for _, data in rows]


async def keep(storage: ReadModelStore, header: ExportHeader) -> None:
    """Keep ``header`` beside the read models of its hub (once)."""
    if header in await kept(storage, header.hub_id):
        return
    checkpoint = await storage.checkpoint(IMPORTS, header.hub_id)
    count = 0 if checkpoint is None else checkpoint.position
    await storage.commit(
        Commit(
            projection=IMPORTS,
            hub_id=header.hub_id,
            fingerprint=_FINGERPRINT,
            after=count,
            position=count + 1,
            writes=((_HEADERS, f"{count:012d}", msgspec.msgpack.encode(header)),),
        )
    )
