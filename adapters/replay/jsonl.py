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
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import msgspec

from eventstore import RecordedEvent, UnknownEvent
from eventstore.codec import DEFAULT_CODEC, Codec
from eventstore.envelope import ENVELOPE_FIELDS, CorruptEvent, Envelope, StoredEvent
from eventstore.errors import DuplicateEventError, InvalidEventError
from eventstore.store import EventStore

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


async def export(
    store: EventStore, hub_ids: Iterable[str], selection: EventFilter, out: IO[bytes]
) -> int:
    """Write the selected events of each hub; ``store`` opened with RAW_CODEC."""
    written = 0
    for hub_id in hub_ids:
        async with aclosing(select_events(store, hub_id, selection)) as events:
            async for event in events:
                out.write(encode_line(stored(event)))
                written += 1
    return written


def read_lines(path: Path) -> Iterator[tuple[int, StoredEvent]]:
    """``(line number, event)`` for each line of the file.

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


def _parse(path: Path, number: int, text: bytes) -> StoredEvent:
    try:
        line = _decoder.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        kind = "JSON" if isinstance(exc, msgspec.ValidationError) else "not JSON"
        why = f"not a hublog event ({exc})" if kind == "JSON" else f"not JSON ({exc})"
        raise ImportFileError(f"{path}, line {number}: {why}; is it a hublog export?") from None
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


def check_file(path: Path) -> int:
    """Read every line once; return how many events the file holds.

    Raises: ImportFileError at the first damaged line, before anything is written.
    """
    count = 0
    for _ in read_lines(path):
        count += 1
    if count == 0:
        raise ImportFileError(f"{path} holds no events: is it a hublog export?")
    return count


async def import_file(
    store: EventStore,
    path: Path,
    *,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Check the whole file, then import it batch by batch (see the module docstring).

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
    return report


def _importable(
    lines: Iterator[tuple[int, StoredEvent]], report: ImportReport
) -> Iterator[tuple[int, StoredEvent]]:
    for number, event in lines:
        if event.envelope_error is None:
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
