"""``hublog verify``: is a hub's log what the store contract promises?

Checked, in one pass over the log: positions strictly increasing, with holes
only where retention removed raw samples (a hole is explained by a missing
version of a ``metrics/`` stream, below that stream's latest
``MetricsRolledUp.through_version``); stream versions increasing with
position and contiguous except for such removed samples; the hub's head and
stream versions not below what is stored; every event id once; every
payload decodes, or is of a type this hublog does not know but is still
MessagePack.  Optionally the stored read models are compared with a
rebuild in memory.

A log that holds only part of the hub's history (:mod:`.coverage`) is
checked from where it starts, and one imported from a filtered export
without its holes counted: what it leaves out is one warning, not errors.
"""

from __future__ import annotations

import dataclasses
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec

from eventstore import streams
from eventstore.codec import DEFAULT_CODEC
from eventstore.envelope import CorruptEvent, StoredEvent, UnknownEvent
from eventstore.events import MetricsRolledUp
from eventstore.store import EventStore
from projections import ReadModels, ReadModelStore, rebuild, standard_projections

from ..memory import MemoryReadModelStore
from .coverage import Coverage
from .jsonl import stored

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Finding:
    severity: str
    hub_id: str
    position: int | None
    stream: str | None
    problem: str

    def line(self) -> str:
        where = f"hub {self.hub_id}"
        if self.position is not None:
            where += f" position {self.position}"
        if self.stream is not None:
            where += f" stream {self.stream}"
        return f"{self.severity:<7} {where}: {self.problem}"

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class _Scan:
    hub_id: str
    findings: list[Finding] = field(default_factory=list)
    last_position: int = 0
    holes: list[tuple[int, int]] = field(default_factory=list)
    versions: dict[str, list[int]] = field(default_factory=dict)
    rolled_through: dict[str, int] = field(default_factory=dict)
    ids: dict[UUID, int] = field(default_factory=dict)
    events: int = 0
    partial: bool = False
    """The log starts late or is filtered: versions below a stream's first
    are before it; with filters, holes are what the export left out."""
    filtered: bool = False

    def add(self, severity: str, problem: str, event: StoredEvent | None = None) -> None:
        position = None if event is None else event.position
        stream = None if event is None else event.stream
        self.findings.append(Finding(severity, self.hub_id, position, stream, problem))


async def verify_hub(
    store: EventStore, hub_id: str, held: Coverage | None = None
) -> tuple[int, list[Finding]]:
    """``store`` opened with ``RAW_CODEC``, ``held`` what the log holds (None:
    all of the hub's history); returns (events read, findings)."""
    scan = _Scan(hub_id)
    if held is not None and held.partial:
        scan.partial, scan.filtered = True, bool(held.filters)
        scan.last_position = held.first - 1
        scan.add(WARNING, f"{held.line()}" + ("; checked from there" if held.starts_late else ""))
    async with aclosing(store.read_log(hub_id)) as events:
        async for raw in events:
            _check_event(scan, stored(raw))
    await _check_ends(store, scan)
    _check_versions(scan)
    return scan.events, scan.findings


def _check_event(scan: _Scan, event: StoredEvent) -> None:
    scan.events += 1
    if event.position <= scan.last_position:
        scan.add(ERROR, f"position not above the previous one ({scan.last_position})", event)
    elif event.position > scan.last_position + 1 and not scan.filtered:
        scan.holes.append((scan.last_position + 1, event.position - 1))
    scan.last_position = max(scan.last_position, event.position)
    seen = scan.ids.setdefault(event.event_id, event.position)
    if seen != event.position:
        scan.add(ERROR, f"event id {event.event_id} also at position {seen}", event)
    versions = scan.versions.setdefault(event.stream, [])
    if versions and event.version <= versions[-1]:
        scan.add(ERROR, f"version {event.version} not above {versions[-1]}", event)
    versions.append(event.version)
    decoded = DEFAULT_CODEC.decode(event).event
    if isinstance(decoded, CorruptEvent):
        scan.add(ERROR, f"{event.type} payload does not decode: {decoded.error}", event)
    elif isinstance(decoded, UnknownEvent):
        try:
            decoded.data()
        except msgspec.DecodeError:
            scan.add(
                ERROR, f"unknown type {event.type} with a payload that is not MessagePack", event
            )
        else:
            scan.add(WARNING, f"event type {event.type} unknown to this hublog (kept as is)", event)
    elif isinstance(decoded, MetricsRolledUp):
        through = scan.rolled_through.get(event.stream, 0)
        scan.rolled_through[event.stream] = max(through, decoded.through_version)


async def _check_ends(store: EventStore, scan: _Scan) -> None:
    head = await store.head(scan.hub_id)
    if head < scan.last_position:
        scan.add(ERROR, f"head is {head}, below the last position read ({scan.last_position})")
    elif head > scan.last_position and not scan.filtered:
        scan.holes.append((scan.last_position + 1, head))
    for stream, versions in scan.versions.items():
        stored_version = await store.stream_version(scan.hub_id, stream)
        if stored_version < versions[-1]:
            scan.findings.append(
                Finding(
                    ERROR,
                    scan.hub_id,
                    None,
                    stream,
                    f"stream version is {stored_version}, below its last event's {versions[-1]}",
                )
            )
        elif stored_version > versions[-1]:
            versions.append(stored_version + 1)  # the missing tail counts as removed


def _check_versions(scan: _Scan) -> None:
    """Every missing stream version must be a removed sample; every hole in
    the positions must be one of those."""
    removed = 0
    for stream, versions in scan.versions.items():
        if scan.filtered:
            continue  # what a filtered export left out
        gaps = _gaps(versions, versions[0] if scan.partial else 1)
        if not gaps:
            continue
        through = 0  # retention removes samples only: a gap elsewhere is never explained
        if streams.category_of(stream) == "metrics":
            through = scan.rolled_through.get(stream, 0)
        unexplained = [(max(a, through + 1), b) for a, b in gaps if b > through]
        if unexplained:
            scan.findings.append(
                Finding(
                    ERROR,
                    scan.hub_id,
                    None,
                    stream,
                    f"{_count(unexplained)} version(s) missing, e.g. {unexplained[0][0]}, "
                    "not removed by retention (no MetricsRolledUp covers them)",
                )
            )
        removed += _count(gaps)
    holes = _count(scan.holes)
    if holes > removed:
        first = scan.holes[0]
        scan.findings.append(
            Finding(
                ERROR,
                scan.hub_id,
                first[0],
                None,
                f"{holes} position(s) missing (first {first[0]}..{first[1]}) but only "
                f"{removed} stream version(s): positions lost that retention did not remove",
            )
        )


def _gaps(versions: list[int], expected: int = 1) -> list[tuple[int, int]]:
    """The missing versions from ``expected`` on as ``(first, last)`` ranges:
    retention removes samples by the thousand, so they are never listed one
    by one."""
    out: list[tuple[int, int]] = []
    for version in versions:
        if version > expected:
            out.append((expected, version - 1))
        expected = max(expected, version + 1)
    return out


def _count(ranges: list[tuple[int, int]]) -> int:
    return sum(b - a + 1 for a, b in ranges)


async def verify_projections(
    store: EventStore, storage: ReadModelStore, hub_id: str
) -> list[Finding]:
    """Compare each stored standard read model with a rebuild in memory."""
    findings = []
    head = await store.head(hub_id)
    for projection in standard_projections():
        name = projection.name
        checkpoint = await storage.checkpoint(name, hub_id)
        problem = None
        if checkpoint is None:
            problem = f"no stored read model {name!r} to compare (hublog rebuild builds it)"
        elif checkpoint.fingerprint != projection.fingerprint(hub_id):
            problem = f"read model {name!r} was built as {checkpoint.fingerprint!r}: rebuild it"
        elif checkpoint.position != head:
            problem = f"read model {name!r} is at position {checkpoint.position}, the log at {head}"
        if problem is not None:
            findings.append(Finding(WARNING, hub_id, None, None, problem))
            continue
        difference = await _compare(store, storage, projection, hub_id)
        if difference is not None:
            findings.append(
                Finding(ERROR, hub_id, None, None, f"read model {name!r}: {difference}")
            )
    return findings


async def _compare(
    store: EventStore, storage: ReadModelStore, projection: Any, hub_id: str
) -> str | None:
    fresh = MemoryReadModelStore()
    await rebuild(store, fresh, projection, hub_id, snapshot_every=None)
    stored_rows = await ReadModels(storage).all_rows(projection, hub_id)
    rebuilt = await ReadModels(fresh).all_rows(projection, hub_id)
    for table in sorted(set(stored_rows) | set(rebuilt)):
        mine, theirs = stored_rows.get(table, {}), rebuilt.get(table, {})
        for key in sorted(set(mine) | set(theirs)):
            if mine.get(key) != theirs.get(key):
                return f"table {table!r} row {key!r} differs from a rebuild"
    return None
