"""hublog's side of every figure, through its public API only (``open_store``,
``append``, ``read_log``, ``rebuild``), so the figures stay comparable while
the backends behind it change."""

from __future__ import annotations

import time

from adapters.memory import MemoryReadModelStore
from eventstore import (
    EventStore,
    HealthChecked,
    InstanceRegistered,
    Metrics,
    MetricsSampled,
    ResourceType,
    streams,
)
from eventstore.codec import DEFAULT_CODEC
from eventstore.envelope import StoredEvent
from eventstore.events import Event
from projections import ReadModelStore, standard_projections
from projections import rebuild_all as rebuild_every
from tests.eventstore.contract.factories import sampled

from .data import LogEntry

IMPORT_CHUNK = 5000


def event_of(entry: LogEntry) -> tuple[str, Event]:
    """The stream and hublog event of one log entry."""
    if entry.kind == "registered":
        return streams.instance(entry.instance), InstanceRegistered(
            name=entry.instance, resource_type=ResourceType.OLLAMA,
            endpoint="http://10.0.0.1:11434", created_at=entry.at,
        )  # fmt: skip
    if entry.kind == "checked":
        return streams.instance(entry.instance), HealthChecked(
            ok=entry.ok, checked_at=entry.at, latency_ms=5.0
        )
    return streams.metrics(entry.instance), MetricsSampled(
        metrics=Metrics(**entry.metrics), sampled_at=entry.at
    )


async def batched_append(store: EventStore, hub: str, batch: int, batches: int) -> float:
    """Events/s appending ``batches`` batches of ``batch`` samples (~200 B each)."""
    pending = [[sampled(n) for n in range(batch)] for _ in range(batches)]
    started = time.perf_counter()
    for n, events in enumerate(pending):
        await store.append(hub, streams.metrics(f"i{n}"), events)
    return batch * batches / (time.perf_counter() - started)


async def single_appends(store: EventStore, hub: str, count: int) -> float:
    """Events/s appending one sample per call, each acknowledged before the next."""
    pending = [sampled(n) for n in range(count)]
    started = time.perf_counter()
    for event in pending:
        await store.append(hub, streams.metrics("single"), [event])
    return count / (time.perf_counter() - started)


async def read_all(store: EventStore, hub: str) -> int:
    """Read a hub's whole log, decoded (events come out as typed objects)."""
    count = 0
    async for _ in store.read_log(hub):
        count += 1
    return count


async def rebuild_all(store: EventStore, storage: ReadModelStore, hub: str) -> None:
    """Drop and rebuild the standard read models (hub, health, metrics) in
    one read of the log (``projections.rebuild_all``)."""
    await rebuild_every(store, storage, standard_projections(), hub)


async def rebuild_in_memory(store: EventStore, hub: str) -> None:
    await rebuild_all(store, MemoryReadModelStore(), hub)


async def fill(store: EventStore, hub: str, log: list[LogEntry]) -> None:
    """Write ``log`` as hub ``hub`` by the import primitive (fast, not timed)."""
    versions: dict[str, int] = {}
    chunk: list[StoredEvent] = []
    for position, entry in enumerate(log, start=1):
        stream, event = event_of(entry)
        encoded = DEFAULT_CODEC.encode(event)
        versions[stream] = versions.get(stream, 0) + 1
        chunk.append(StoredEvent(
            hub_id=hub, stream=stream, version=versions[stream], position=position,
            event_id=encoded.event_id, type=encoded.type,
            schema_version=encoded.schema_version, data=encoded.data,
            recorded_at=entry.at,
        ))  # fmt: skip
        if len(chunk) == IMPORT_CHUNK:
            await store.import_events(hub, chunk)
            chunk = []
    if chunk:
        await store.import_events(hub, chunk)


def payload_bytes() -> int:
    """The size of the sample the append rows write, as hublog stores it."""
    return len(DEFAULT_CODEC.encode(sampled()).data)
