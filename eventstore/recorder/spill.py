"""The spill file: batches the backend could not take, kept in order on local disk.

Format (all integers little-endian)::

    file    = MAGIC record*
    MAGIC   = b"HUBLOGSPILL\\x01"                      (12 bytes: name, format 1)
    record  = length:u32  crc:u32  payload[length]
    crc     = CRC32C (Castagnoli) of payload
    payload = MessagePack of SpillBatch: hub_id, stream, and each event as
              [type, schema_version, data] — exactly the codec's stored form

A record is one append batch, written whole and fsynced before the batch
counts as acknowledged.  Reading stops at the first record that is torn
(shorter than its length), fails its CRC, or does not decode: that offset
is the *damage*.  Opening the file for writing cuts it there, after copying
what followed to ``<file>.damaged-<offset>`` (kept for a post-mortem, never
read again), so a crash mid-write costs at most the batch being written —
which was never acknowledged — and never a refusal to start.

Opened to be drained (``SpillFile(path, create=False)``, what ``hublog spill
drain`` does), a file that does not begin with the header is refused and
left exactly as it was: it is someone else's file, not a damaged spill file.
"""

from __future__ import annotations

import fcntl
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import msgspec
from crc32c import crc32c

from .errors import SpillFileError

MAGIC = b"HUBLOGSPILL\x01"
HEADER = struct.Struct("<II")
MAX_RECORD = 256 * 1024 * 1024  # a length above this is damage, not a record
NOT_A_SPILL_FILE = "not a spill file header"


class SpillEvent(msgspec.Struct, array_like=True, frozen=True):
    type: str
    schema_version: int
    data: bytes


class SpillBatch(msgspec.Struct, frozen=True):
    hub_id: str
    stream: str
    events: list[SpillEvent]


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(SpillBatch).decode


def frame(batch: SpillBatch) -> bytes:
    payload = _encode(batch)
    return HEADER.pack(len(payload), crc32c(payload)) + payload


@dataclass(frozen=True)
class Damage:
    """Where a spill file stops being readable, and why."""

    offset: int
    reason: str
    bytes_after: int  # how many bytes from offset to the end of the file

    def __str__(self) -> str:
        return f"damage at offset {self.offset}: {self.reason} ({self.bytes_after} bytes cut)"


@dataclass
class Scan:
    """A spill file read from the start: its valid records and where they end."""

    records: list[tuple[int, SpillBatch]] = field(default_factory=list)
    end: int = len(MAGIC)
    size: int = 0
    damage: Damage | None = None

    @property
    def events(self) -> int:
        return sum(len(batch.events) for _, batch in self.records)

    @property
    def foreign(self) -> bool:
        """The file does not begin with the spill header: not a spill file at all."""
        return self.damage is not None and self.damage.reason == NOT_A_SPILL_FILE


def scan(path: Path) -> Scan:
    """Read every valid record of the spill file at ``path`` (read only).

    Raises: SpillFileError for a file that cannot be read.
    """
    try:
        with path.open("rb") as file:
            return scan_file(file)
    except OSError as exc:
        raise SpillFileError(f"cannot read spill file {path}: {exc}") from exc


def scan_file(file: IO[bytes]) -> Scan:
    data = file.read()
    result = Scan(size=len(data))
    if not data.startswith(MAGIC):
        # torn while being created, or overwritten: damage at 0, never a refusal
        result.end = 0
        if data:
            why = "torn file header" if MAGIC.startswith(data) else NOT_A_SPILL_FILE
            result.damage = Damage(0, why, len(data))
        return result
    offset = len(MAGIC)
    while offset < len(data):
        record, why = _record_at(data, offset)
        if record is None:
            result.damage = Damage(offset, why, len(data) - offset)
            break
        result.records.append((offset, record))
        offset = _next(data, offset)
    result.end = offset
    return result


def _next(data: bytes, offset: int) -> int:
    length, _ = HEADER.unpack_from(data, offset)
    return int(offset + HEADER.size + length)


def _record_at(data: bytes, offset: int) -> tuple[SpillBatch | None, str]:
    if len(data) - offset < HEADER.size:
        return None, "torn record header"
    length, crc = HEADER.unpack_from(data, offset)
    if length > MAX_RECORD:
        return None, f"record length {length} is not plausible"
    start = offset + HEADER.size
    payload = data[start : start + length]
    if len(payload) < length:
        return None, f"torn record: {len(payload)} of {length} bytes"
    if crc32c(payload) != crc:
        return None, "CRC32C mismatch"
    try:
        return _decode(payload), ""
    except msgspec.DecodeError as exc:  # a CRC collision, or a writer's bug
        return None, f"record does not decode: {exc}"


class SpillFile:
    """One recorder's spill file, held open and locked (``flock``) by it.

    Opening cuts a damaged tail (see the module doc); ``damage`` says what
    was cut.  With ``create=False`` (draining a file someone points at) a
    missing file or one without the spill header is refused, untouched.
    Methods are synchronous and may block on the disk: the recorder calls
    them in a worker thread.

    Raises: SpillFileError (not writable, locked by another process; with
    ``create=False`` also missing or not a spill file).
    """

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        self.damage: Damage | None = None
        self._file = self._open(path, create=create)
        scanned = scan_file(self._file)
        if scanned.foreign and not create:
            self._file.close()
            raise SpillFileError(
                f"{path} is not a spill file (it does not begin with the spill header "
                f"{MAGIC!r}): left as it was"
            )
        if scanned.damage is not None:
            self._cut(scanned)
        self.records = len(scanned.records)
        self.end = scanned.end  # 0: the header is written with the first batch

    @staticmethod
    def _open(path: Path, *, create: bool) -> IO[bytes]:
        """Raises: SpillFileError (missing, not writable, or locked by another process)."""
        try:
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o600)
            file = os.fdopen(fd, "r+b")
        except FileNotFoundError as exc:
            raise SpillFileError(f"no spill file at {path}") from exc
        except OSError as exc:
            raise SpillFileError(f"cannot open spill file {path}: {exc}") from exc
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            file.close()
            raise SpillFileError(f"spill file {path} is in use by another process") from exc
        return file

    def _cut(self, scanned: Scan) -> None:
        assert scanned.damage is not None
        self.damage = scanned.damage
        offset = scanned.damage.offset
        self._file.seek(offset)
        tail = self._file.read()
        kept = self.path.with_name(f"{self.path.name}.damaged-{offset}")
        kept.write_bytes(tail)
        self._file.truncate(offset)
        self._fsync()
        scanned.end = offset

    @property
    def empty(self) -> bool:
        return self.records == 0

    def append(self, batches: list[SpillBatch]) -> None:
        """Write the batches at the end and fsync: then they are acknowledged.

        Raises: SpillFileError when the disk refuses (full, read-only).
        """
        try:
            if self.end < len(MAGIC):
                self._file.seek(0)
                self._file.truncate(0)
                self._file.write(MAGIC)
                self.end = len(MAGIC)
            self._file.seek(self.end)
            data = b"".join(frame(batch) for batch in batches)
            self._file.write(data)
            self._fsync()
        except OSError as exc:
            self._file.truncate(self.end)  # never leave a half batch behind on purpose
            raise SpillFileError(f"cannot write spill file {self.path}: {exc}") from exc
        self.end += len(data)
        self.records += len(batches)

    def read(self) -> Iterator[tuple[int, SpillBatch]]:
        """The valid records, oldest first, with their offsets."""
        self._file.seek(0)
        yield from scan_file(self._file).records

    def clear(self) -> None:
        """Everything was drained: back to an empty file (fsynced)."""
        self._file.seek(0)
        self._file.truncate(0)
        self._file.write(MAGIC)
        self._fsync()
        self.end, self.records = len(MAGIC), 0

    def _fsync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()
