"""What the log stores around each event, and what append and read return."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from .events import Event


class ExpectedVersion(enum.Enum):
    """Symbolic expected versions for :meth:`EventStore.append`."""

    ANY = "any"
    """Append whatever the stream's version."""
    NO_STREAM = "no_stream"
    """Append only if the stream has no events yet (version 0)."""

    def __repr__(self) -> str:
        return self.name

    __str__ = __repr__


ANY = ExpectedVersion.ANY
NO_STREAM = ExpectedVersion.NO_STREAM


class AppendResult(msgspec.Struct, frozen=True):
    """The stream's version after the batch and the hub-log positions it took.

    A batch always occupies consecutive positions.
    """

    version: int
    first_position: int
    last_position: int

    @property
    def positions(self) -> range:
        return range(self.first_position, self.last_position + 1)


class NewEvent(msgspec.Struct, frozen=True):
    """An encoded event on its way into a backend."""

    event_id: UUID
    type: str
    schema_version: int
    data: bytes
    correlation_id: str | None = None
    causation_id: str | None = None


class Envelope(msgspec.Struct, frozen=True):
    """What the log records around every event: where it is (hub, stream,
    version, position), which it is (``event_id``, ``type``,
    ``schema_version``), when (``recorded_at``, the backend's clock,
    timezone-aware UTC) and why (``correlation_id``, ``causation_id``).

    Declared once, here: :class:`StoredEvent`, :class:`RecordedEvent` and an
    export's lines (``adapters/replay/jsonl.py``) are this plus their payload.
    """

    hub_id: str
    stream: str
    version: int
    position: int
    event_id: UUID
    type: str
    schema_version: int
    recorded_at: datetime
    correlation_id: str | None = None
    causation_id: str | None = None


ENVELOPE_FIELDS = tuple(field.name for field in msgspec.structs.fields(Envelope))
"""The envelope's field names, in order."""


class StoredEvent(Envelope, frozen=True, kw_only=True):
    """An encoded event as a backend hands it back, before decoding.

    A record whose envelope a backend could not read (a ``recorded_at`` that
    is not a time, an ``event_id`` that is not a UUID, …) comes with
    ``envelope_error`` set and placeholders where the bad values were
    (:data:`UNREADABLE_ID`, :data:`UNREADABLE_TIME`): the codec makes it a
    :class:`CorruptEvent` in its place, so a reader carries on past it.
    """

    data: bytes
    envelope_error: str | None = None


UNREADABLE_ID = UUID(int=0)
"""The ``event_id`` of a record whose stored id could not be read."""
UNREADABLE_TIME = datetime(1970, 1, 1, tzinfo=UTC)
"""The ``recorded_at`` of a record whose stored time could not be read."""


class UnknownEvent(msgspec.Struct, frozen=True):
    """A stored event whose type this reader does not know — or whose type it
    knows at an older schema version than the one stored (written by a newer
    hublog): never decoded as the current type, which would misread it.

    Surfaced, never dropped: export writes it back out unchanged.
    """

    type: str
    schema_version: int
    payload: bytes

    def data(self) -> Any:
        """The payload decoded without a schema (maps, lists, scalars)."""
        return msgspec.msgpack.decode(self.payload)


class CorruptEvent(msgspec.Struct, frozen=True):
    """A stored event of a known type whose payload would not decode, or a
    record whose envelope could not be read (``error`` says which).

    Readers carry on past it; projection runners quarantine it.
    """

    type: str
    schema_version: int
    payload: bytes
    error: str


class RecordedEvent(Envelope, frozen=True, kw_only=True):
    """One event in the log, with everything the log knows about it.

    ``schema_version`` is the version the payload was stored with; ``event``
    has been upcast to the current type.
    """

    event: Event | UnknownEvent | CorruptEvent

    @property
    def is_readable(self) -> bool:
        return isinstance(self.event, Event)
