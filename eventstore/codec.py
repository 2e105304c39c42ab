"""Events to MessagePack and back, with upcasting of older stored payloads.

One encoder and one decoder per event type, built once.  Decoding never
raises for data that is merely unfamiliar: an unknown type becomes an
:class:`UnknownEvent`, a payload that will not decode a :class:`CorruptEvent`,
so a reader can always move past what it cannot understand.

A stored payload holds only what its record does not say already: no tag
(the record's ``type`` names the class), no field equal to its default
(``omit_defaults`` on the structs), the event id as 16 bytes.  The id stays
inside because the recorder's spill file keeps just (type, schema version,
payload) and must append the same ids again when it drains.  Payloads
written before (tag, every field, the id as text) read back the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import msgspec

from .envelope import CorruptEvent, NewEvent, RecordedEvent, StoredEvent, UnknownEvent
from .errors import InvalidEventError
from .events import CATALOGUE, Event

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class Upcasters:
    """Functions that turn a stored payload of version v into version v + 1.

    Register one per (type, from_version); reading chains them up to the
    type's current ``schema_version``::

        upcasters = Upcasters()

        @upcasters.register("HealthChecked", from_version=1)
        def _latency_seconds_to_ms(data):
            data["latency_ms"] = data.pop("latency_s") * 1000
            return data

    ``data`` is the payload as stored: a field that had a default at that
    version is absent when it held it (and ``type`` is absent), so read such
    fields with ``data.get(name, <that version's default>)``.
    """

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Upcaster] = {}

    def register(self, type_name: str, *, from_version: int) -> Callable[[Upcaster], Upcaster]:
        def decorator(fn: Upcaster) -> Upcaster:
            key = (type_name, from_version)
            if key in self._steps:
                raise ValueError(
                    f"an upcaster for {type_name} v{from_version} is already registered"
                )
            self._steps[key] = fn
            return fn

        return decorator

    def upcast(
        self, type_name: str, data: dict[str, Any], stored: int, current: int
    ) -> dict[str, Any]:
        for version in range(stored, current):
            step = self._steps.get((type_name, version))
            if step is None:
                raise LookupError(f"no upcaster for {type_name} from schema version {version}")
            # An upcaster is written for the payloads its author expected; one
            # it cannot handle (any exception, or a result that is no map) is
            # that event being unreadable, not the whole read failing.
            try:
                data = step(data)
            except Exception as exc:
                raise ValueError(
                    f"upcaster for {type_name} from schema version {version} failed: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            if not isinstance(data, dict):
                raise ValueError(
                    f"upcaster for {type_name} from schema version {version} returned a "
                    f"{type(data).__name__}, not a dict"
                )
        return data


class Codec:
    """Encodes events for the log and decodes stored events for readers."""

    def __init__(
        self, types: Iterable[type[Event]] = CATALOGUE, upcasters: Upcasters | None = None
    ) -> None:
        self.types: dict[str, type[Event]] = {}
        for cls in types:
            tag = cls.__struct_config__.tag
            if not isinstance(tag, str):
                raise TypeError(f"{cls.__name__} has no string tag")
            self.types[tag] = cls
        self.upcasters = upcasters or Upcasters()
        self._encoder = msgspec.msgpack.Encoder(uuid_format="bytes")
        self._decoders = {tag: msgspec.msgpack.Decoder(cls) for tag, cls in self.types.items()}
        self._writers = {
            cls: _Writer(tag, cls.schema_version, _tag_entry(cls), self._decoders[tag].decode)
            for tag, cls in self.types.items()
        }

    def type_name(self, event: Event) -> str:
        return self._writer(event).type_name

    def _writer(self, event: Event) -> _Writer:
        writer = self._writers.get(type(event))
        if writer is None:
            raise InvalidEventError(
                f"{type(event).__name__} is not an event type of this codec "
                f"(known: {', '.join(sorted(self.types))})"
            )
        return writer

    def encode(
        self, event: Event, *, correlation_id: str | None = None, causation_id: str | None = None
    ) -> NewEvent:
        """Raises: InvalidEventError for an object that is not a known event,
        or whose fields do not match their declared types."""
        writer = self._writer(event)
        data = _untagged(self._encoder.encode(event), writer.tag)
        try:
            # Structs do not check their fields when built; decoding here does,
            # so a payload that could not be read back never enters the log.
            # (msgspec has no cheaper check: convert() passes a Struct through.)
            writer.check(data)
        except msgspec.ValidationError as exc:
            raise InvalidEventError(
                f"{writer.type_name} {event.event_id} is not valid: {exc}"
            ) from exc
        return NewEvent(
            event_id=event.event_id,
            type=writer.type_name,
            schema_version=writer.schema_version,
            data=data,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )

    def decode_payload(self, type_name: str, schema_version: int, data: bytes) -> Event:
        """Decode one stored payload to its current type.

        Raises: KeyError for an unknown type; msgspec.DecodeError,
        msgspec.ValidationError or LookupError for a payload that will not
        become the current type.
        """
        cls = self.types[type_name]
        if schema_version > cls.schema_version:
            raise LookupError(
                f"{type_name} schema version {schema_version} is newer than this hublog's "
                f"{cls.schema_version}"
            )
        if schema_version == cls.schema_version:
            return self._decoders[type_name].decode(data)
        raw = msgspec.msgpack.decode(data)
        if not isinstance(raw, dict):
            raise msgspec.ValidationError(f"payload is a {type(raw).__name__}, not a map")
        if schema_version < cls.schema_version:
            raw = self.upcasters.upcast(type_name, raw, schema_version, cls.schema_version)
        raw["type"] = type_name
        return msgspec.convert(raw, cls)

    def _is_newer(self, stored: StoredEvent) -> bool:
        """Written at a schema version this reader does not know yet."""
        return stored.schema_version > self.types[stored.type].schema_version

    def decode(self, stored: StoredEvent) -> RecordedEvent:
        """Never raises for stored data: see UnknownEvent and CorruptEvent."""
        event: Event | UnknownEvent | CorruptEvent
        if stored.envelope_error is not None:
            event = CorruptEvent(
                stored.type, stored.schema_version, stored.data, stored.envelope_error
            )
        elif stored.type not in self.types or self._is_newer(stored):
            event = UnknownEvent(stored.type, stored.schema_version, stored.data)
        else:
            try:
                event = self.decode_payload(stored.type, stored.schema_version, stored.data)
            except (msgspec.DecodeError, msgspec.ValidationError, LookupError, ValueError) as exc:
                event = CorruptEvent(stored.type, stored.schema_version, stored.data, str(exc))
        return RecordedEvent(
            hub_id=stored.hub_id,
            stream=stored.stream,
            version=stored.version,
            position=stored.position,
            event_id=stored.event_id,
            type=stored.type,
            schema_version=stored.schema_version,
            recorded_at=stored.recorded_at,
            event=event,
            correlation_id=stored.correlation_id,
            causation_id=stored.causation_id,
        )


class _Writer(NamedTuple):
    """What encoding needs of one event type, looked up once per event."""

    type_name: str
    schema_version: int
    tag: bytes
    """The map entry ``type: <tag>`` as msgspec writes it, first, for the type."""
    check: Callable[[bytes], Any]
    """The type's decoder: a payload it refuses never enters the log."""


def _tag_entry(cls: type[Event]) -> bytes:
    config = cls.__struct_config__
    return msgspec.msgpack.encode(config.tag_field) + msgspec.msgpack.encode(config.tag)


_FIXMAP = [bytes((0x80 | count,)) for count in range(16)]


def _untagged(data: bytes, tag: bytes) -> bytes:
    """``data`` without its first map entry ``tag``; ``data`` itself if it is
    not laid out that way.

    msgspec writes a tagged struct as a map whose first entry is the tag, so
    dropping it is a new map header and a slice.
    """
    head = data[0]
    if 0x81 <= head <= 0x8F and data.startswith(tag, 1):  # fixmap: up to 15 entries
        return _FIXMAP[head - 0x81] + data[1 + len(tag) :]
    if head == 0xDE and data.startswith(tag, 3):  # map 16
        count = int.from_bytes(data[1:3], "big") - 1
        header = _FIXMAP[count] if count < 16 else b"\xde" + count.to_bytes(2, "big")
        return header + data[3 + len(tag) :]
    return data


DEFAULT_CODEC = Codec()
