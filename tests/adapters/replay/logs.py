"""The logs the replay suite reads: a clock the test moves, events written
as another log stored them (for unknown and damaged payloads, and holes),
and a hub whose oldest samples retention has replaced by rollups."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
from uuid6 import uuid7

from adapters.memory import MemoryEventStore, MemoryReadModelStore
from adapters.replay.jsonl import RAW_CODEC
from eventstore import DEFAULT_CODEC, Event, EventStore
from eventstore.envelope import ENVELOPE_FIELDS, StoredEvent
from projections import RetentionPolicy
from projections.deciders.retention import retain
from tests.eventstore.contract.factories import T0
from tests.projections.script import HUB, S, Script

DEMO_HUB = "demo-pool"
DEMO_MINUTES = 20
"""The demo's incident on a clock stopped at T0: 11:40 to 12:00 UTC."""
DEMO_HEAD = 487
"""Its events (seed 7): deterministic, as every count and position the tests pin."""


class Clock:
    """The memory backend's clock, moved by the test: what ``now()`` answers
    and ``recorded_at`` is stamped with."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> datetime:
        """Set the clock ``seconds`` after T0; return that time."""
        self.now = T0 + timedelta(seconds=seconds)
        return self.now


def stored(
    position: int,
    stream: str,
    version: int,
    payload: Event | tuple[str, bytes],
    *,
    at: datetime = T0,
    hub_id: str = HUB,
) -> StoredEvent:
    """A record as a log stores it: a real event encoded, or ``(type, bytes)``
    for what this hublog cannot read."""
    if isinstance(payload, tuple):
        type_name, data = payload
        event_id = uuid7()
    else:
        encoded = DEFAULT_CODEC.encode(payload)
        type_name, data, event_id = encoded.type, encoded.data, encoded.event_id
    return StoredEvent(
        hub_id=hub_id,
        stream=stream,
        version=version,
        position=position,
        event_id=event_id,
        type=type_name,
        schema_version=1,
        data=data,
        recorded_at=at,
    )


async def raw_copy(store: EventStore, hub_id: str = HUB) -> MemoryEventStore:
    """A copy of a hub's log read raw, as ``hublog verify`` and ``export`` read
    (a memory log cannot be opened twice): each event re-encoded at its place,
    envelope kept.  For logs of readable events only."""
    records = []
    async for event in store.read_log(hub_id):
        encoded = DEFAULT_CODEC.encode(event.event)  # type: ignore[arg-type]
        envelope = {f: getattr(event, f) for f in ENVELOPE_FIELDS}
        records.append(StoredEvent(**envelope, data=encoded.data))
    raw = MemoryEventStore(codec=RAW_CODEC)
    await raw.import_events(hub_id, records)
    return raw


UNKNOWN = ("QuotaChanged", msgspec.msgpack.encode({"quota": 5}))
"""A type a newer hublog wrote: MessagePack this one cannot name."""
DAMAGED = ("HealthChecked", b"\xc1\xc1")
"""A known type whose bytes are not even MessagePack."""


async def sampled_log(store: MemoryEventStore, clock: Clock) -> None:
    """Hub ``HUB``: five hours of one instance, its samples every 10 minutes
    for the first three.

    ==========  =====================================================
    position    event
    ==========  =====================================================
    1           HubStarted (T0 = 12:00)
    2-4         ollama-1 registered, checked, unknown -> healthy (T0)
    5-22        18 samples of ollama-1, every 10 minutes from T0
                (requests +100 and errors +1 a sample, cpu = its index)
    23          ollama-1 healthy -> degraded (T0 + 5 h)
    24          ollama-1 degraded -> healthy (T0 + 5 h 1 min)
    ==========  =====================================================
    """
    script = Script(store)
    await script.started()
    await script.healthy("ollama-1")
    for i in range(18):
        at = clock.at(600 * i)
        await script.sample("ollama-1", at, requests=100 * i, errors=i, cpu_percent=float(i))
    clock.at(5 * 3600)
    await script.change("ollama-1", S.HEALTHY, S.DEGRADED, "slow")
    clock.at(5 * 3600 + 60)
    await script.change("ollama-1", S.DEGRADED, S.HEALTHY, "fast again")


async def retain_an_hour(store: MemoryEventStore) -> None:
    """Retention keeping raw samples an hour, on :func:`sampled_log`: it
    removes the 12 samples of 12:00 and 13:00 (positions 5-16; the six of
    14:00 stay) and appends MetricsRolledUp at 1 minute (25) and 1 hour (26)
    through stream version 12."""
    report = await retain(store, MemoryReadModelStore(), HUB, policy=RetentionPolicy(raw_s=3600))
    assert (report.samples_removed, await store.head(HUB)) == (12, 26)
