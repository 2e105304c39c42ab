"""Stream entries to stored events, robustly: hublog's own entries, damaged
ones, and foreign ones another tool wrote into a hub's log.

hublog's entries have ids ``<position>-0`` with 1 <= position <= head (see
``keys.py``).  An own entry whose fields cannot be read becomes a
:class:`StoredEvent` with ``envelope_error`` set (read back as a
CorruptEvent in its place, so the rest of the page reads normally).  A
foreign entry holds no position of the log: readers step over it, and the
next append sets it aside in the hub's ``foreign`` hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import redis

from eventstore.envelope import UNREADABLE_ID, UNREADABLE_TIME, StoredEvent

from .keys import HubKeys

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
UNREADABLE_STREAM = "?"


@dataclass(frozen=True, order=True)
class EntryId:
    """A Redis stream entry id, ``<ms>-<seq>``, ordered as Redis orders them."""

    ms: int
    seq: int

    @classmethod
    def parse(cls, raw: str | bytes) -> EntryId:
        text = raw.decode() if isinstance(raw, bytes) else raw
        ms, _, seq = text.partition("-")
        return cls(int(ms), int(seq or 0))

    def __str__(self) -> str:
        return f"{self.ms}-{self.seq}"

    def is_own(self, head: int) -> bool:
        """An id hublog writes: ``<position>-0`` at or below the head."""
        return self.seq == 0 and 1 <= self.ms <= head


def read_own_page(
    node: redis.Redis, keys: HubKeys, after: int, limit: int
) -> tuple[list[tuple[bytes, dict[bytes, bytes]]], EntryId | None]:
    """Up to ``limit`` of the hub's own entries after position ``after``,
    foreign ones stepped over (a short page still means the end of the log),
    and the id of the last entry looked at (foreign or not)."""
    own: list[tuple[bytes, dict[bytes, bytes]]] = []
    start, last = f"{after + 1}-0", None
    while len(own) < limit:
        want = limit - len(own)
        pipe = node.pipeline(transaction=False)
        pipe.xrange(keys.log, start, "+", count=want)
        pipe.hget(keys.meta, "head")  # after the page: every own entry in it is <= head
        raw: Any
        raw, head = pipe.execute()
        for entry_id, fields in raw:
            last = EntryId.parse(entry_id)
            if last.is_own(int(head or 0)):
                own.append((entry_id, fields))
        if len(raw) < want:
            break
        start = f"({last}"
    return own, last


def stored(hub_id: str, entry_id: bytes, fields: dict[bytes, bytes]) -> StoredEvent:
    """The stored event of one of the hub's own entries; a damaged one with
    ``envelope_error`` saying what could not be read."""
    position = EntryId.parse(entry_id).ms
    try:
        return _stored(hub_id, position, fields)
    except (KeyError, ValueError, UnicodeDecodeError, OverflowError) as exc:
        return _damaged(hub_id, position, fields, exc)


def _stored(hub_id: str, position: int, fields: dict[bytes, bytes]) -> StoredEvent:
    correlation, causation = fields.get(b"c"), fields.get(b"k")
    return StoredEvent(
        hub_id=hub_id,
        stream=fields[b"s"].decode(),
        version=int(fields[b"v"]),
        position=position,
        event_id=UUID(fields[b"id"].decode()),
        type=fields[b"t"].decode(),
        schema_version=int(fields[b"sv"]),
        data=fields[b"d"],
        recorded_at=EPOCH + int(fields[b"at"]) * MICROSECOND,
        correlation_id=None if correlation is None else correlation.decode(),
        causation_id=None if causation is None else causation.decode(),
    )


def _damaged(hub_id: str, position: int, fields: dict[bytes, bytes], exc: Exception) -> StoredEvent:
    what = f"missing field {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
    return StoredEvent(
        hub_id=hub_id,
        stream=_text(fields.get(b"s"), UNREADABLE_STREAM),
        version=_number(fields.get(b"v")),
        position=position,
        event_id=UNREADABLE_ID,
        type=_text(fields.get(b"t"), "?"),
        schema_version=_number(fields.get(b"sv")),
        data=fields.get(b"d", b""),
        recorded_at=UNREADABLE_TIME,
        envelope_error=f"unreadable Redis entry {position}-0 of hub {hub_id!r}: {what}",
    )


def _text(value: bytes | None, default: str) -> str:
    try:
        return default if value is None else value.decode()
    except UnicodeDecodeError:
        return default


def _number(value: bytes | None) -> int:
    try:
        return 0 if value is None else int(value)
    except ValueError:
        return 0


def pairs(flat: Sequence[bytes]) -> list[tuple[bytes, bytes]]:
    """A flat ``[k1, v1, k2, v2, …]`` reply as its (key, value) pairs."""
    return list(zip(flat[::2], flat[1::2], strict=True))
