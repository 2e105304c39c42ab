"""The in-memory backend: the reference behaviour every other backend matches,
for the event log and for read models.

Everything lives in one process; an append runs without awaiting, so it is
atomic on the event loop with no lock.  ``memory://`` stores are independent:
two ``open_store("memory://")`` calls share nothing.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import anyio
from msgspec.structs import replace

from eventstore.backend import Expected, check_expected_version, resolve_retry
from eventstore.codec import Codec
from eventstore.envelope import AppendResult, NewEvent, StoredEvent
from eventstore.errors import StoreClosed, StoreConfigurationError
from eventstore.importing import LogEnd, new_events
from eventstore.store import EventStore
from projections.readmodel_store import Checkpoint, Commit, ReadModelStore, Snapshot, decide
from projections.tables import Tables

from .urls import StoreURL


@dataclass
class _Hub:
    log: list[StoredEvent] = field(default_factory=list)
    streams: dict[str, list[StoredEvent]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    by_id: dict[UUID, StoredEvent] = field(default_factory=dict)
    deleted: dict[UUID, tuple[str, int, int]] = field(default_factory=dict)
    """(stream, version, position) of each deleted sample: its id stays known."""
    head: int = 0

    def places(self, ids: Iterable[UUID]) -> dict[UUID, tuple[str, int, int]]:
        """Where each of ``ids`` that this log knows was written, deleted or not."""
        found = {}
        for event_id in ids:
            if (e := self.by_id.get(event_id)) is not None:
                found[event_id] = (e.stream, e.version, e.position)
            elif (place := self.deleted.get(event_id)) is not None:
                found[event_id] = place
        return found


def create_store(
    url: StoreURL,
    *,
    codec: Codec | None = None,
    max_event_bytes: int | None = None,
    **options: Any,
) -> MemoryEventStore:
    """The backend's factory (``adapters.stores``): ``memory://`` takes no
    options but ``codec`` and ``max_event_bytes``.

    Raises: StoreConfigurationError for a ``memory://`` URL with options, or
    another keyword argument.
    """
    if url.options:
        raise StoreConfigurationError(
            f"memory:// takes no options, got {', '.join(sorted(url.options))}"
        )
    if options:
        raise StoreConfigurationError(
            f"unknown option(s) {', '.join(sorted(options))} for 'memory://'; "
            "known: codec, max_event_bytes"
        )
    return MemoryEventStore(codec=codec, max_event_bytes=max_event_bytes)


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class MemoryEventStore(EventStore):
    """An event store in a dict; for tests and as the reference.

    ``clock`` (timezone-aware UTC) is the backend's clock: what :meth:`now`
    answers and ``recorded_at`` is stamped from.  Tests pass one they control
    (lease expiry without sleeping); it defaults to the machine's.
    """

    def __init__(
        self,
        *,
        codec: Codec | None = None,
        max_event_bytes: int | None = None,
        clock: Callable[[], datetime] = _wall_clock,
    ) -> None:
        kwargs = {} if max_event_bytes is None else {"max_event_bytes": max_event_bytes}
        super().__init__(codec=codec, **kwargs)
        self._hubs_by_id: dict[str, _Hub] = {}
        self._stream_hubs: dict[str, set[str]] = {}
        """stream -> the hubs whose log has it (hubs_with_stream)."""
        self._clock = clock

    def readmodel_store(self) -> MemoryReadModelStore:
        """A new, empty read-model store (memory stores share nothing: keep it)."""
        return MemoryReadModelStore()

    async def now(self) -> datetime:
        self._check_open()
        return self._clock()

    async def _append(
        self, hub_id: str, stream: str, batch: Sequence[NewEvent], expected: Expected
    ) -> AppendResult:
        await anyio.lowlevel.checkpoint()  # an append is a suspension point on every backend
        hub = self._hubs_by_id.get(hub_id) or _Hub()
        written = [(i, *place) for i, place in hub.places(n.event_id for n in batch).items()]
        retried = resolve_retry(hub_id, stream, batch, written)
        if retried is not None:
            return retried
        version = hub.versions.get(stream, 0)
        check_expected_version(hub_id, stream, expected, version)
        # never earlier than the hub's last event, so time lookups can bisect
        now = self._clock()
        recorded_at = max(now, hub.log[-1].recorded_at) if hub.log else now
        stored = [
            StoredEvent(
                hub_id=hub_id,
                stream=stream,
                version=version + i,
                position=hub.head + i,
                event_id=n.event_id,
                type=n.type,
                schema_version=n.schema_version,
                data=n.data,
                recorded_at=recorded_at,
                correlation_id=n.correlation_id,
                causation_id=n.causation_id,
            )
            for i, n in enumerate(batch, start=1)
        ]
        self._hubs_by_id[hub_id] = hub
        hub.log.extend(stored)
        hub.streams.setdefault(stream, []).extend(stored)
        hub.by_id.update((e.event_id, e) for e in stored)
        hub.versions[stream] = version + len(batch)
        self._stream_hubs.setdefault(stream, set()).add(hub_id)
        hub.head += len(batch)
        return AppendResult(version + len(batch), stored[0].position, stored[-1].position)

    async def _import_events(self, hub_id: str, events: Sequence[StoredEvent]) -> int:
        await anyio.lowlevel.checkpoint()
        hub = self._hubs_by_id.get(hub_id) or _Hub()
        written = hub.places(e.event_id for e in events)
        clock = hub.log[-1].recorded_at if hub.log else None
        fresh = new_events(events, written, LogEnd(hub.head, clock, dict(hub.versions)))
        if not fresh:
            return 0
        # kept as the other backends keep it: the same instant, in UTC
        fresh = [replace(e, recorded_at=e.recorded_at.astimezone(UTC)) for e in fresh]
        self._hubs_by_id[hub_id] = hub
        hub.log.extend(fresh)
        for event in fresh:
            hub.streams.setdefault(event.stream, []).append(event)
            hub.by_id[event.event_id] = event
            hub.versions[event.stream] = event.version
            self._stream_hubs.setdefault(event.stream, set()).add(hub_id)
        hub.head = fresh[-1].position
        return len(fresh)

    async def _read_stream_page(
        self,
        hub_id: str,
        stream: str,
        *,
        after_version: int,
        before_version: int | None,
        backwards: bool,
        limit: int,
    ) -> Sequence[StoredEvent]:
        await anyio.lowlevel.checkpoint()
        hub = self._hubs_by_id.get(hub_id)
        events = hub.streams.get(stream, []) if hub else []
        low = bisect.bisect_right(events, after_version, key=_version)
        high = (
            len(events)
            if before_version is None
            else bisect.bisect_left(events, before_version, key=_version)
        )
        if high <= low:
            return []
        if backwards:
            return events[max(low, high - limit) : high][::-1]
        return events[low : min(high, low + limit)]

    async def _read_log_page(self, hub_id: str, *, after: int, limit: int) -> Sequence[StoredEvent]:
        await anyio.lowlevel.checkpoint()
        hub = self._hubs_by_id.get(hub_id)
        if hub is None:
            return []
        start = bisect.bisect_right(hub.log, after, key=_position)
        return hub.log[start : start + limit]

    async def _stream_version(self, hub_id: str, stream: str) -> int:
        hub = self._hubs_by_id.get(hub_id)
        return hub.versions.get(stream, 0) if hub else 0

    async def _position_at(self, hub_id: str, when: datetime) -> int:
        hub = self._hubs_by_id.get(hub_id)
        if hub is None:
            return 0
        index = bisect.bisect_right(hub.log, when, key=_recorded_at)
        return hub.log[index - 1].position if index else 0

    async def _delete_events(
        self, hub_id: str, stream: str, through_version: int, type_name: str
    ) -> int:
        hub = self._hubs_by_id.get(hub_id)
        if hub is None:
            return 0
        doomed = {
            e.event_id
            for e in hub.streams.get(stream, [])
            if e.version <= through_version and e.type == type_name
        }
        if doomed:
            hub.log = [e for e in hub.log if e.event_id not in doomed]
            hub.streams[stream] = [e for e in hub.streams[stream] if e.event_id not in doomed]
            for event_id in doomed:
                e = hub.by_id.pop(event_id)
                hub.deleted[event_id] = (e.stream, e.version, e.position)
        return len(doomed)

    async def _head(self, hub_id: str) -> int:
        hub = self._hubs_by_id.get(hub_id)
        return hub.head if hub else 0

    async def _hubs(self) -> list[str]:
        return list(self._hubs_by_id)

    async def _hubs_with_stream(self, stream: str) -> list[str]:
        return list(self._stream_hubs.get(stream, ()))

    async def _wait_for_events(self, hub_id: str, after: int, woken: anyio.Event) -> None:
        # Every append to this store happens in this process and wakes us.
        await woken.wait()


def _version(event: StoredEvent) -> int:
    return event.version


def _position(event: StoredEvent) -> int:
    return event.position


def _recorded_at(event: StoredEvent) -> datetime:
    return event.recorded_at


# --- read models ----------------------------------------------------------------


@dataclass
class _Model:
    checkpoint: Checkpoint | None = None
    rows: Tables = field(default_factory=Tables)
    snapshots: dict[int, Snapshot] = field(default_factory=dict)


class MemoryReadModelStore(ReadModelStore):
    """Read models in a dict.  Two instances share nothing."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, str], _Model] = {}
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed("MemoryReadModelStore is closed")

    def _model(self, projection: str, hub_id: str) -> _Model:
        self._check_open()
        return self._models.get((projection, hub_id)) or _Model()

    async def checkpoint(self, projection: str, hub_id: str) -> Checkpoint | None:
        await anyio.lowlevel.checkpoint()
        return self._model(projection, hub_id).checkpoint

    async def commit(self, commit: Commit) -> bool:
        await anyio.lowlevel.checkpoint()  # a commit is a suspension point on every backend
        model = self._model(commit.projection, commit.hub_id)
        stored = model.checkpoint.position if model.checkpoint is not None else 0
        if not decide(commit, stored):
            return False
        model.rows.write(commit.ranges, {(t, k): data for t, k, data in commit.writes})
        model.checkpoint = Checkpoint(commit.position, commit.fingerprint)
        if commit.snapshot is not None:
            model.snapshots[commit.position] = Snapshot(
                commit.position, commit.fingerprint, commit.snapshot
            )
        self._models[(commit.projection, commit.hub_id)] = model
        return True

    async def get(self, projection: str, hub_id: str, table: str, key: str) -> bytes | None:
        await anyio.lowlevel.checkpoint()
        return self._model(projection, hub_id).rows.get(table, key)

    async def scan(
        self,
        projection: str,
        hub_id: str,
        table: str,
        *,
        start: str | None = None,
        stop: str | None = None,
        limit: int | None = None,
    ) -> list[tuple[str, bytes]]:
        await anyio.lowlevel.checkpoint()
        found = self._model(projection, hub_id).rows.scan(table, start, stop)
        return found if limit is None else found[:limit]

    async def find(self, projection: str, table: str, key: str) -> list[tuple[str, bytes]]:
        await anyio.lowlevel.checkpoint()
        self._check_open()
        found = []
        for (name, hub_id), model in sorted(self._models.items()):
            data = model.rows.get(table, key) if name == projection else None
            if data is not None:
                found.append((hub_id, data))
        return found

    async def tables(self, projection: str, hub_id: str) -> list[str]:
        await anyio.lowlevel.checkpoint()
        return self._model(projection, hub_id).rows.table_names()

    async def hubs(self, projection: str) -> list[str]:
        await anyio.lowlevel.checkpoint()
        self._check_open()
        return sorted(
            h for (name, h), m in self._models.items() if name == projection and m.checkpoint
        )

    async def drop(self, projection: str, hub_id: str) -> None:
        await anyio.lowlevel.checkpoint()
        self._check_open()
        self._models.pop((projection, hub_id), None)

    async def snapshot(
        self, projection: str, hub_id: str, *, at_or_before: int | None = None
    ) -> Snapshot | None:
        await anyio.lowlevel.checkpoint()
        snapshots = self._model(projection, hub_id).snapshots
        usable = [p for p in snapshots if at_or_before is None or p <= at_or_before]
        return snapshots[max(usable)] if usable else None

    async def close(self) -> None:
        self._closed = True
