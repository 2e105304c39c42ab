"""Stored payloads of every age read back the same.

Payloads were first written whole: the tag, the event id as text, every
field with its default.  Now they leave out the tag and every default field
and hold the id as 16 bytes; both forms must decode to the same event, and
export and import must carry either byte for byte.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.replay.jsonl import encode_line, read_lines
from eventstore import CATALOGUE, DEFAULT_CODEC, Codec, Event, StoredEvent, Upcasters
from eventstore.events import MetricsSampled
from tests.eventstore.contract.factories import T0, sampled
from tests.strategies import for_struct

any_event = st.one_of([for_struct(cls) for cls in CATALOGUE])

_first_encoder = msgspec.msgpack.Encoder()


def whole(value: Any) -> Any:
    """``value`` as the first codec wrote it: every struct a map of its tag
    and every field (UNSET ones never were written), in declaration order."""
    if isinstance(value, msgspec.Struct):
        config = value.__struct_config__
        fields = {} if config.tag is None else {config.tag_field: config.tag}
        for name in value.__struct_fields__:
            item = getattr(value, name)
            if item is not msgspec.UNSET:
                fields[name] = whole(item)
        return fields
    if isinstance(value, list | tuple):
        return [whole(item) for item in value]
    if isinstance(value, dict):
        return {key: whole(item) for key, item in value.items()}
    return value


def first_payload(event: Event) -> bytes:
    return _first_encoder.encode(whole(event))


def stored(event_id: UUID, type_name: str, data: bytes, schema_version: int = 1) -> StoredEvent:
    return StoredEvent(
        hub_id="h",
        stream="instance/a",
        version=1,
        position=1,
        event_id=event_id,
        type=type_name,
        schema_version=schema_version,
        data=data,
        recorded_at=datetime.now(UTC),
    )


# MetricsSampled(event_id=SAMPLE_ID, metrics=Metrics(request_count=10,
# cpu_percent=40.0), sampled_at=T0) as the first codec wrote it.
SAMPLE_ID = UUID("01923a5e-0000-7000-8000-000000000001")
FIRST_SAMPLE = (
    b"\x84\xa4type\xaeMetricsSampled\xa8event_id\xd9$01923a5e-0000-7000-8000-000000000001"
    b"\xa7metrics\x8e\xabcpu_percent\xcb@D\x00\x00\x00\x00\x00\x00"
    b"\xaememory_percent\xcb\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\xa9memory_mb\xcb\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\xaadisk_io_mb\xcb\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\xadnetwork_io_mb\xcb\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\xadrequest_count\n\xaberror_count\x00"
    b"\xb4avg_response_time_ms\xcb\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\xb4p95_response_time_ms\xcb\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\xb4p99_response_time_ms\xcb\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\xb2active_connections\x00\xafqueued_requests\x00\xaecustom_metrics\x80"
    b"\xaclast_updated\xc0\xaasampled_at\xd6\xffj\xe7)\xc0"
)


def test_the_first_codecs_bytes_are_what_the_tests_rebuild() -> None:
    event = msgspec.structs.replace(sampled(), event_id=SAMPLE_ID)

    assert first_payload(event) == FIRST_SAMPLE


def test_a_sample_stored_by_the_first_codec_reads_back_the_same() -> None:
    event = msgspec.structs.replace(sampled(), event_id=SAMPLE_ID)

    decoded = DEFAULT_CODEC.decode(stored(SAMPLE_ID, "MetricsSampled", FIRST_SAMPLE))

    assert decoded.event == event


@given(any_event)
def test_every_event_type_stored_by_the_first_codec_reads_back_the_same(event: Event) -> None:
    data = first_payload(event)

    decoded = DEFAULT_CODEC.decode(stored(event.event_id, type(event).__name__, data))

    assert decoded.event == event


@given(any_event)
def test_every_new_payload_holds_its_event_id(event: Event) -> None:
    # The recorder's spill file keeps (type, schema version, payload) only:
    # draining it must append the same ids again.
    encoded = DEFAULT_CODEC.encode(event)

    assert DEFAULT_CODEC.decode_payload(encoded.type, encoded.schema_version, encoded.data) == event


def test_a_new_payload_leaves_out_the_tag_and_every_default() -> None:
    event = sampled()

    data = msgspec.msgpack.decode(DEFAULT_CODEC.encode(event).data)

    assert data == {
        "event_id": event.event_id.bytes,
        "metrics": {"cpu_percent": 40.0, "request_count": 10},
        "sampled_at": T0,
    }


def test_a_whole_payload_and_a_new_one_export_and_import_byte_for_byte(tmp_path: Path) -> None:
    event = msgspec.structs.replace(sampled(), event_id=SAMPLE_ID)
    new = DEFAULT_CODEC.encode(event).data
    records = [stored(SAMPLE_ID, "MetricsSampled", data) for data in (FIRST_SAMPLE, new)]
    path = tmp_path / "log.jsonl"

    path.write_bytes(b"".join(encode_line(record) for record in records))
    lines = [msgspec.json.decode(line) for line in path.read_bytes().splitlines()]
    imported = [record for _, record in read_lines(path)]

    assert [line["readable"] for line in lines] == ["ok", "ok"]
    # the view shows the fields a payload holds; read as the type, both are the event
    assert [msgspec.convert(line["event"], MetricsSampled) for line in lines] == [event, event]
    assert [record.data for record in imported] == [FIRST_SAMPLE, new]
    assert [DEFAULT_CODEC.decode(record).event for record in imported] == [event, event]


class GaugeV1(Event, tag="GaugeRead", frozen=True, kw_only=True):
    category = "instance"
    reading: float
    unit: str = "ratio"


class GaugeV2(Event, tag="GaugeRead", frozen=True, kw_only=True):
    category = "instance"
    schema_version: ClassVar[int] = 2
    reading_pct: float


def test_an_upcaster_reads_a_whole_payload_and_one_without_its_defaults_alike() -> None:
    upcasters = Upcasters()

    @upcasters.register("GaugeRead", from_version=1)
    def to_pct(data: dict[str, Any]) -> dict[str, Any]:
        # a default field is absent from a payload that held the default
        scale = 100 if data.pop("unit", "ratio") == "ratio" else 1
        data["reading_pct"] = data.pop("reading") * scale
        return data

    old = GaugeV1(reading=0.5)
    whole_v1 = first_payload(old)
    new_v1 = Codec([*CATALOGUE, GaugeV1]).encode(old).data
    reader = Codec([*CATALOGUE, GaugeV2], upcasters)

    events = [reader.decode(stored(old.event_id, "GaugeRead", d)).event for d in (whole_v1, new_v1)]

    assert b"unit" in whole_v1 and b"unit" not in new_v1
    assert events == [GaugeV2(event_id=old.event_id, reading_pct=50.0)] * 2


@pytest.mark.parametrize("fields", [13, 14, 15, 16])
def test_a_payload_with_a_long_map_header_loses_its_tag_too(fields: int) -> None:
    # 16 entries and more (tag and id included) take a 3-byte map header.
    wide = msgspec.defstruct(
        "Wide", [(f"f{i}", int) for i in range(fields)], bases=(Event,), tag="Wide", kw_only=True,
        frozen=True,
    )  # fmt: skip
    event = wide(**{f"f{i}": i for i in range(fields)})

    data = Codec([wide]).encode(event).data

    assert msgspec.msgpack.decode(data) == {"event_id": event.event_id.bytes} | {
        f"f{i}": i for i in range(fields)
    }
    assert Codec([wide]).decode(stored(event.event_id, "Wide", data)).event == event
