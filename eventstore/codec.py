"""Events to MessagePack and back, with upcasting of older stored payloads.

One encoder and one decoder per event type, built once.  Decoding never
raises for data that is merely unfamiliar: an unknown type becomes an
:class:`UnknownEvent`, a payload that will not decode a :class:`CorruptEvent`,
so a reader can always move past what it cannot understand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

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
        self._encoder = msgspec.msgpack.Encoder()
        self._decoders = {tag: msgspec.msgpack.Decoder(cls) for tag, cls in self.types.items()}

    def type_name(self, event: Event) -> str:
        tag = type(event).__struct_config__.tag if isinstance(event, Event) else None
        if tag is None or self.types.get(tag) is not type(event):  # type: ignore[arg-type]
            raise InvalidEventError(
                f"{type(event).__name__} is not an event type of this codec "
                f"(known: {', '.join(sorted(self.types))})"
            )
        return tag  # type: ignore[return-value]

    def encode(
        self, event: Event, *, correlation_id: str | None = None, causation_id: str | None = None
    ) -> NewEvent:
        """Raises: InvalidEventError for an object that is not a known event,
        or whose fields do not match their declared types."""
        type_name = self.type_name(event)
        data = self._encoder.encode(event)
        try:
            # Structs do not check their fields when built; decoding here does,
            # so a payload that could not be read back never enters the log.
            self._decoders[type_name].decode(data)
        except msgspec.ValidationError as exc:
            raise InvalidEventError(f"{type_name} {event.event_id} is not valid: {exc}") from exc
        return NewEvent(
            event_id=event.event_id,
            type=type_name,
            schema_version=type(event).schema_version,
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


DEFAULT_CODEC = Codec()
