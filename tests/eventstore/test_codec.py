"""The codec: every catalogue event round-trips; bad events are refused before storage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventstore import (
    CATALOGUE,
    DEFAULT_CODEC,
    Codec,
    CorruptEvent,
    Event,
    HealthChecked,
    InstanceRegistered,
    InvalidEventError,
    ResourceType,
    StoredEvent,
    Upcasters,
)
from tests.eventstore.contract.factories import checked
from tests.strategies import for_struct

any_event = st.one_of([for_struct(cls) for cls in CATALOGUE])


def stored(encoded, position: int = 1) -> StoredEvent:
    return StoredEvent(
        hub_id="h",
        stream="instance/a",
        version=position,
        position=position,
        event_id=encoded.event_id,
        type=encoded.type,
        schema_version=encoded.schema_version,
        data=encoded.data,
        recorded_at=datetime.now(UTC),
    )


@given(any_event)
def test_every_event_type_round_trips_through_the_codec(event: Event) -> None:
    encoded = DEFAULT_CODEC.encode(event)

    decoded = DEFAULT_CODEC.decode(stored(encoded))

    assert decoded.event == event
    assert decoded.type == type(event).__name__
    assert decoded.event_id == event.event_id


@given(st.one_of([for_struct(cls, finite=True) for cls in CATALOGUE]))
def test_every_event_type_exports_to_json_and_back(event: Event) -> None:
    text = msgspec.json.encode(event)

    assert msgspec.json.decode(text, type=type(event)) == event


def test_the_catalogue_covers_every_stream_category() -> None:
    categories = {cls.category for cls in CATALOGUE}

    assert categories == {"hub", "instance", "metrics", "lock", "queue"}
    assert len({cls.__name__ for cls in CATALOGUE}) == len(CATALOGUE)


def test_events_get_a_fresh_id_when_made() -> None:
    assert (
        HealthChecked(ok=True, checked_at=datetime.now(UTC)).event_id
        != HealthChecked(ok=True, checked_at=datetime.now(UTC)).event_id
    )


def test_a_field_of_the_wrong_type_is_refused_naming_it() -> None:
    event = InstanceRegistered(name=7, resource_type=ResourceType.OLLAMA, endpoint="x")  # type: ignore[arg-type]

    with pytest.raises(InvalidEventError, match=r"Expected `str`, got `int` - at `\$.name`"):
        DEFAULT_CODEC.encode(event)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(InvalidEventError, match="checked_at"):
        DEFAULT_CODEC.encode(HealthChecked(ok=True, checked_at=datetime(2026, 1, 1)))


def test_registering_two_upcasters_for_one_step_is_refused() -> None:
    upcasters = Upcasters()
    upcasters.register("ProbeRan", from_version=1)(lambda d: d)

    with pytest.raises(ValueError, match="already registered"):
        upcasters.register("ProbeRan", from_version=1)(lambda d: d)


class GaugeV1(Event, tag="GaugeRead", frozen=True, kw_only=True):
    category = "instance"
    reading: float


class GaugeV2(Event, tag="GaugeRead", frozen=True, kw_only=True):
    category = "instance"
    schema_version: ClassVar[int] = 2
    reading_pct: float


def _read_v1_with(step: Callable[[dict[str, Any]], Any]) -> object:
    upcasters = Upcasters()
    upcasters.register("GaugeRead", from_version=1)(step)
    old = Codec([*CATALOGUE, GaugeV1]).encode(GaugeV1(reading=0.5))
    return Codec([*CATALOGUE, GaugeV2], upcasters).decode(stored(old)).event


def test_an_upcaster_that_raises_makes_that_event_corrupt_not_the_read_fail() -> None:
    def broken(data: dict[str, Any]) -> dict[str, Any]:
        data["reading_pct"] = data["reading"] + "%"  # TypeError: float + str
        return data

    event = _read_v1_with(broken)

    assert isinstance(event, CorruptEvent)
    assert event.error.startswith(
        "upcaster for GaugeRead from schema version 1 failed: TypeError: "
    )


def test_an_upcaster_that_returns_no_dict_makes_that_event_corrupt() -> None:
    event = _read_v1_with(lambda data: [data])

    assert isinstance(event, CorruptEvent)
    assert event.error == "upcaster for GaugeRead from schema version 1 returned a list, not a dict"


def test_a_working_upcaster_still_upcasts() -> None:
    def to_pct(data: dict[str, Any]) -> dict[str, Any]:
        data["reading_pct"] = data.pop("reading") * 100
        return data

    event = _read_v1_with(to_pct)

    assert isinstance(event, GaugeV2) and event.reading_pct == 50.0


# --- what the mutation run showed unasserted (docs/testing.md) ---------------


def test_an_event_of_a_type_the_codec_does_not_know_is_refused_naming_the_known_ones() -> None:
    codec = Codec([HealthChecked, InstanceRegistered])

    with pytest.raises(InvalidEventError) as refused:
        codec.encode(GaugeV1(reading=1.0))

    assert str(refused.value) == (
        "GaugeV1 is not an event type of this codec (known: HealthChecked, InstanceRegistered)"
    )


def test_a_struct_without_a_string_tag_cannot_join_a_codec() -> None:
    class Untagged(msgspec.Struct):
        reading: float

    with pytest.raises(TypeError) as refused:
        Codec([Untagged])  # type: ignore[list-item]

    assert str(refused.value) == "Untagged has no string tag"


def test_a_stored_payload_holds_neither_the_type_nor_default_fields() -> None:
    encoded = DEFAULT_CODEC.encode(
        InstanceRegistered(name="a", resource_type=ResourceType.OLLAMA, endpoint="e")
    )

    stored_map = msgspec.msgpack.decode(encoded.data)

    assert "type" not in stored_map
    assert set(stored_map) == {"event_id", "name", "resource_type", "endpoint"}


def test_the_type_is_left_out_of_a_payload_with_fifteen_entries_too() -> None:
    # A msgpack fixmap holds up to 15 entries: the tag plus 14 fields is the
    # largest payload whose header is one byte.
    fields = {f"f{n}": n + 1 for n in range(13)}  # + event_id + the tag = 15
    wide = msgspec.defstruct(
        "WideHappened", [(name, int, 0) for name in fields], bases=(Event,),
        tag="WideHappened", frozen=True, kw_only=True,
    )  # fmt: skip
    wide.category = "instance"
    codec = Codec([*CATALOGUE, wide])
    event = wide(**fields)

    encoded = codec.encode(event)

    assert encoded.data[0] == 0x80 | 14  # the tag's entry gone from the header
    assert "type" not in msgspec.msgpack.decode(encoded.data)
    assert codec.decode(stored(encoded)).event == event


def test_a_record_with_an_unreadable_envelope_decodes_to_a_corrupt_event_keeping_it_all() -> None:
    encoded = DEFAULT_CODEC.encode(checked())
    damaged = msgspec.structs.replace(stored(encoded), envelope_error="recorded_at is not a time")

    event = DEFAULT_CODEC.decode(damaged).event

    assert event == CorruptEvent(
        "HealthChecked", encoded.schema_version, encoded.data, "recorded_at is not a time"
    )


def test_decode_payload_refuses_a_schema_version_newer_than_the_type() -> None:
    encoded = DEFAULT_CODEC.encode(checked())

    with pytest.raises(LookupError) as refused:
        DEFAULT_CODEC.decode_payload("HealthChecked", 2, encoded.data)

    assert str(refused.value) == "HealthChecked schema version 2 is newer than this hublog's 1"


def test_an_upcast_payload_is_read_as_the_type_its_record_names() -> None:
    # The record's type wins over a tag inside an old payload (there was one
    # in every payload before tags were left out).
    old = msgspec.msgpack.encode({"type": "SomethingElse", "reading": 0.5})
    upcasters = Upcasters()
    upcasters.register("GaugeRead", from_version=1)(
        lambda data: {**data, "reading_pct": data.pop("reading") * 100}
    )
    codec = Codec([*CATALOGUE, GaugeV2], upcasters)

    event = codec.decode_payload("GaugeRead", 1, old)

    assert isinstance(event, GaugeV2) and event.reading_pct == 50.0


def _wide_event(fields: int) -> tuple[Codec, Event]:
    """An event type with ``fields`` int fields besides its id, all set."""
    names = [f"f{n}" for n in range(fields)]
    wide = msgspec.defstruct(
        f"Wide{fields}Happened", [(name, int, 0) for name in names], bases=(Event,),
        tag=f"Wide{fields}Happened", frozen=True, kw_only=True,
    )  # fmt: skip
    wide.category = "instance"
    return Codec([*CATALOGUE, wide]), wide(**{name: n + 1 for n, name in enumerate(names)})


@pytest.mark.parametrize(
    ("fields", "header"),
    [
        (14, bytes([0x8F])),  # 16 entries with the tag (a map16), 15 without: a fixmap
        (15, b"\xde\x00\x10"),  # 17 with the tag, 16 without: still a map16
        (300, b"\xde" + (301).to_bytes(2, "big")),  # a count above one byte
    ],
)
def test_a_large_payload_loses_its_tag_and_gets_the_smallest_map_header(
    fields: int, header: bytes
) -> None:
    codec, event = _wide_event(fields)

    encoded = codec.encode(event)

    assert encoded.data.startswith(header)
    assert "type" not in msgspec.msgpack.decode(encoded.data)
    assert codec.decode(stored(encoded)).event == event


def test_type_name_is_the_tag_of_a_known_event() -> None:
    assert DEFAULT_CODEC.type_name(checked()) == "HealthChecked"
