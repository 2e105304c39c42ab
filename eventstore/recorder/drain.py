"""Draining a spill file into the store: every record, in file order, then clear it."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

import anyio
import msgspec

from ..events import Event
from ..store import EventStore
from .spill import SpillBatch, SpillFile
from .writing import append_batch

log = logging.getLogger(__name__)


@dataclass
class DrainResult:
    batches: int = 0
    events: int = 0
    by_hub: Counter[str] = field(default_factory=Counter)
    rejected: list[str] = field(default_factory=list)
    """One line per event the backend (or the decoder) refused, with why."""
    rejected_by_hub: Counter[str] = field(default_factory=Counter)


def decode(store: EventStore, batch: SpillBatch) -> tuple[list[Event], list[str]]:
    """The batch's events, and a line for each that no longer decodes."""
    events, bad = [], []
    for stored in batch.events:
        try:
            events.append(
                store.codec.decode_payload(stored.type, stored.schema_version, stored.data)
            )
        except (KeyError, LookupError, msgspec.DecodeError, msgspec.ValidationError) as exc:
            bad.append(f"{batch.hub_id} {batch.stream} {stored.type}: does not decode: {exc!r}")
    return events, bad


async def drain(store: EventStore, spill: SpillFile, *, start: int = 0) -> DrainResult:
    """Append the spill file's records from record number ``start`` on, in
    order, and clear the file once all are in.

    Stopping half-way is safe: the next drain appends the same batches again
    and the log answers idempotently (same event ids), so nothing doubles.

    Raises: BackendUnavailable, StoreClosed (the file is kept whole);
    SpillFileError (the disk refused to clear it).
    """
    result = DrainResult()
    records = await anyio.to_thread.run_sync(lambda: list(spill.read()))
    for _, batch in records[start:]:
        events, bad = decode(store, batch)
        result.rejected += bad
        refused = await append_batch(store, batch.hub_id, batch.stream, events) if events else []
        for index, why in refused:
            result.rejected.append(f"{batch.hub_id} {batch.stream} {events[index]!r}: {why}")
        result.rejected_by_hub[batch.hub_id] += len(bad) + len(refused)
        result.batches += 1
        result.events += len(events) - len(refused)
        result.by_hub[batch.hub_id] += len(events) - len(refused)
    await anyio.to_thread.run_sync(spill.clear)
    for line in result.rejected:
        log.error("hublog recorder: the backend refused a spilled event for good: %s", line)
    return result
