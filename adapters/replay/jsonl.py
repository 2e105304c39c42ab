"""``hublog export`` / ``hublog import``: a log as JSON Lines, one event per
line, everything the log recorded kept exactly.

A line is the envelope (``hub_id``, ``stream``, ``version``, ``position``,
``event_id``, ``type``, ``schema_version``, ``recorded_at``,
``correlation_id``, ``causation_id``), ``data``: the stored MessagePack
payload in base64 (byte for byte, also for unknown and corrupt events),
``readable``: ``ok``, ``unknown`` or ``corrupt``, and ``event``: a decoded
view for people and ``jq`` (import ignores it; ``data`` is the truth).

Import reads the whole file once to check every line before it writes
anything, then writes each hub's events in batches through
:meth:`EventStore.import_events`: atomic per batch, idempotent, refused
where the receiving log disagrees.

An export that leaves something out (it starts after position 1, or it is
filtered) begins each hub's part with a *header line* saying what it holds
(:class:`.coverage.ExportHeader` under ``event``, ``readable: "header"``),
which import keeps.  The header is shaped as a line whose envelope could
not be read (``envelope_error`` set, no payload), so a hublog import from
before headers existed reads the file, counts the header as one record it
cannot import, and imports every event.  It is made of the export's
arguments and the log alone, so re-exporting the imported log gives the
same bytes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

import msgspec

from eventstore import RecordedEvent, UnknownEvent
from eventstore.codec import DEFAULT_CODEC, Codec
from eventstore.envelope import (
    ENVELOPE_FIELDS,
    UNREADABLE_TIME,
    CorruptEvent,
    Envelope,
    StoredEvent,
)
from eventstore.errors import DuplicateEventError, InvalidEventError
from eventstore.store import EventStore
from projections import ReadModelStore

from . import coverage
from .coverage import ExportHeader
from .errors import ImportFileError
from .filters import EventFilter, select_events
from .lines import payload

RAW_CODEC = Codec(types=())
"""Knows no type, so every event reads back as an UnknownEvent holding the
stored bytes: open the store for export with ``codec=RAW_CODEC``."""
BATCH = 1000


ENVELOPE = (*ENVELOPE_FIELDS, "data")
"""What a line holds of the stored record (``event`` and ``readable`` are views)."""


class Line(Envelope, frozen=True, kw_only=True):
    """One line: the envelope, the stored payload, and views for people.

    Every key is written, nulls included (``correlation_id``, ``causation_id``,
    ``envelope_error``), so any hublog's import reads any hublog's export.
    """

    data: bytes
    readable: str
    event: Any
    envelope_error: str | None = None
    """Set when the source log could not read this record's envelope."""


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Line)

HEADER_TYPE = "hublog.ExportHeader"
HEADER = "header"
"""``readable`` of a header line."""
_HEADER_NOTE = (
    "not an event: what this export holds (hublog import keeps it; an older one skips it)"
)


def stored(raw: RecordedEvent) -> StoredEvent:
    """The stored form of an event read through :data:`RAW_CODEC`."""
    assert isinstance(raw.event, UnknownEvent | CorruptEvent), "read with codec=RAW_CODEC"
    error = raw.event.error if isinstance(raw.event, CorruptEvent) else None
    return StoredEvent(
        hub_id=raw.hub_id,
        stream=raw.stream,
        version=raw.version,
        position=raw.position,
        event_id=raw.event_id,
        type=raw.type,
        schema_version=raw.schema_version,
        data=raw.event.payload,
        recorded_at=raw.recorded_at,
        correlation_id=raw.correlation_id,
        causation_id=raw.causation_id,
        envelope_error=error,
    )


def encode_line(event: StoredEvent) -> bytes:
    decoded = DEFAULT_CODEC.decode(event)
    readable = (
        "unknown"
        if isinstance(decoded.event, UnknownEvent)
        else "corrupt"
        if isinstance(decoded.event, CorruptEvent)
        else "ok"
    )
    fields = {f: getattr(event, f) for f in ENVELOPE}
    line = Line(
        **fields, readable=readable, event=payload(decoded), envelope_error=event.envelope_error
    )
    return _encoder.encode(line) + b"\n"


def encode_header(header: ExportHeader) -> bytes:
    line = Line(
        hub_id=header.hub_id,
        stream="hub",
        version=0,
        position=header.first_position,
        event_id=UUID(int=0),
        type=HEADER_TYPE,
        schema_version=1,
        recorded_at=UNREADABLE_TIME,
        data=b"",
        readable=HEADER,
        event=msgspec.to_builtins(header),
        envelope_error=_HEADER_NOTE,
    )
    return _encoder.encode(line) + b"\n"


class Output(Protocol):
    """Where an export goes: a binary file, or anything with ``write(bytes)``."""

    def write(self, data: bytes, /) -> int: ...


async def export(
    store: EventStore,
    hub_ids: Iterable[str],
    selection: EventFilter,
    out: Output,
    *,
    storage: ReadModelStore | None = None,
) -> int:
    """Write the selected events of each hub, after a header line where the
    export leaves something out; ``store`` opened with RAW_CODEC, ``storage``
    where an import kept the headers of this log (None: none)."""
    written = 0
    for hub_id in hub_ids:
        header = await coverage.header_for(store, storage, hub_id, selection)
        if header.partial:
            out.write(encode_header(header))
        async with aclosing(select_events(store, hub_id, selection)) as events:
            async for event in events:
                out.write(encode_line(stored(event)))
                written += 1
    return written


def read_lines(path: Path) -> Iterator[tuple[int, StoredEvent | ExportHeader]]:
    """``(line number, event or header)`` for each line of the file.

    Raises: ImportFileError naming the file and line of the first damaged line.
    """
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        for number, text in enumerate(handle, start=1):
            if text.strip():
                yield number, _parse(path, number, text)


def _parse(path: Path, number: int, text: bytes) -> StoredEvent | ExportHeader:
    try:
        line = _decoder.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        kind = "JSON" if isinstance(exc, msgspec.ValidationError) else "not JSON"
        why = f"not a hublog event ({exc})" if kind == "JSON" else f"not JSON ({exc})"
        raise ImportFileError(f"{path}, line {number}: {why}; is it a hublog export?") from None
    if line.type == HEADER_TYPE and line.readable == HEADER:
        try:
            return msgspec.convert(line.event, ExportHeader)
        except msgspec.ValidationError as exc:
            raise ImportFileError(
                f"{path}, line {number}: a damaged export header ({exc})"
            ) from None
    if line.recorded_at.tzinfo is None:
        raise ImportFileError(f"{path}, line {number}: recorded_at has no time zone")
    fields = {f: getattr(line, f) for f in ENVELOPE}
    return StoredEvent(**fields, envelope_error=line.envelope_error)


@dataclass
class ImportReport:
    lines: int = 0
    unreadable: int = 0
    """Records whose envelope the source could not read: not importable."""
    written: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    headers: dict[str, ExportHeader] = field(default_factory=dict)
    """Per hub, what the export held when it left something out."""


def check_file(path: Path) -> int:
    """Read every line once; return how many events the file holds.

    Raises: ImportFileError at the first damaged line, before anything is written.
    """
    count = 0
    for _, line in read_lines(path):
        count += not isinstance(line, ExportHeader)
    if count == 0:
        raise ImportFileError(f"{path} holds no events: is it a hublog export?")
    return count


async def import_file(
    store: EventStore,
    path: Path,
    *,
    storage: ReadModelStore | None = None,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Check the whole file, then import it batch by batch (see the module
    docstring); the file's export headers are kept in ``storage``.

    Raises: ImportFileError for a damaged file (nothing written);
    DuplicateEventError where the log disagrees, naming the line (batches
    before it are written, that one and the rest are not).
    """
    check_file(path)
    report = ImportReport()
    async for first_line, events in _batches(_importable(read_lines(path), report), batch):
        hub_id = events[0].hub_id
        try:
            new = await store.import_events(hub_id, events)
        except InvalidEventError as exc:
            raise ImportFileError(f"{path}, batch from line {first_line}: {exc}") from None
        except DuplicateEventError as exc:
            raise DuplicateEventError(f"{path}, batch from line {first_line}: {exc}") from None
        report.lines += len(events)
        report.written[hub_id] = report.written.get(hub_id, 0) + new
        report.skipped[hub_id] = report.skipped.get(hub_id, 0) + len(events) - new
        if progress is not None:
            progress(report.lines)
    if storage is not None:
        for header in report.headers.values():
            await coverage.keep(storage, header)
    return report


def _importable(
    lines: Iterator[tuple[int, StoredEvent | ExportHeader]], report: ImportReport
) -> Iterator[tuple[int, StoredEvent]]:
    for number, event in lines:
        if isinstance(event, ExportHeader):
            report.headers[event.hub_id] = event
        elif event.envelope_error is None:
            yield number, event
        else:
            report.unreadable += 1


async def _batches(
    lines: Iterator[tuple[int, StoredEvent]], size: int
) -> AsyncIterator[tuple[int, list[StoredEvent]]]:
    """Consecutive events of one hub, at most ``size`` at a time."""
    current: list[StoredEvent] = []
    first = 0
    for number, event in lines:
        if current and (event.hub_id != current[0].hub_id or len(current) >= size):
            yield first, current
            current = []
        if not current:
            first = number
        current.append(event)
    if current:
        yield first, current
