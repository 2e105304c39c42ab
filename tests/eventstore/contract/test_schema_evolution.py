"""Stored payloads outlive their code: upcasting, unknown types, corrupt payloads."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import uuid4

import msgspec
import pytest

from eventstore import (
    CATALOGUE,
    Codec,
    CorruptEvent,
    Event,
    EventStore,
    StoredEvent,
    UnknownEvent,
    Upcasters,
)
from tests.eventstore.contract.factories import registered

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"


class ProbeV1(Event, tag="ProbeRan", frozen=True, kw_only=True):
    """Version 1 of an instance event: latency in seconds."""

    category = "instance"
    latency_s: float


class ProbeV2(Event, tag="ProbeRan", frozen=True, kw_only=True):
    """Version 2: latency in milliseconds, and a target field."""

    category = "instance"
    schema_version: ClassVar[int] = 2
    latency_ms: float
    target: str = "/api/tags"


class MysteryHappened(Event, frozen=True, kw_only=True):
    """A type only a newer writer knows."""

    category = "instance"
    detail: str


def codec_v2(upcasters: Upcasters | None = None) -> Codec:
    return Codec([*CATALOGUE, ProbeV2], upcasters)


async def write_with(store: EventStore, codec: Codec, events: list[Event]) -> None:
    reader = store.codec
    store.codec = codec
    try:
        await store.append(HUB, A, events)
    finally:
        store.codec = reader


async def test_a_stored_v1_payload_is_upcast_on_read(store: EventStore) -> None:
    upcasters = Upcasters()

    @upcasters.register("ProbeRan", from_version=1)
    def seconds_to_ms(data: dict) -> dict:
        data["latency_ms"] = data.pop("latency_s") * 1000
        return data

    old = ProbeV1(latency_s=0.25)
    await write_with(store, Codec([*CATALOGUE, ProbeV1]), [registered(), old])
    store.codec = codec_v2(upcasters)

    [_, recorded] = [e async for e in store.read_stream(HUB, A)]

    assert recorded.schema_version == 1  # as stored
    assert recorded.event == ProbeV2(event_id=old.event_id, latency_ms=250.0)


async def test_a_stored_v1_payload_without_an_upcaster_reads_as_corrupt(store: EventStore) -> None:
    await write_with(store, Codec([*CATALOGUE, ProbeV1]), [ProbeV1(latency_s=0.25)])
    store.codec = codec_v2()

    [recorded] = [e async for e in store.read_log(HUB)]

    assert isinstance(recorded.event, CorruptEvent)
    assert "no upcaster for ProbeRan from schema version 1" in recorded.event.error
    assert not recorded.is_readable


async def test_an_unknown_type_reads_as_an_explicit_record(store: EventStore) -> None:
    mystery = MysteryHappened(detail="from the future")
    await write_with(store, Codec([*CATALOGUE, MysteryHappened]), [registered(), mystery])

    events = [e async for e in store.read_log(HUB)]

    assert [e.type for e in events] == ["InstanceRegistered", "MysteryHappened"]
    unknown = events[1].event
    assert isinstance(unknown, UnknownEvent)
    assert (unknown.type, unknown.schema_version) == ("MysteryHappened", 1)
    assert unknown.data()["detail"] == "from the future"
    assert events[1].event_id == mystery.event_id


async def test_a_payload_that_does_not_fit_its_type_reads_as_corrupt(store: EventStore) -> None:
    class BrokenRegistered(Event, tag="InstanceRegistered", frozen=True, kw_only=True):
        category = "instance"
        name: int  # the real type wants a str, and more fields

    await write_with(store, Codec([BrokenRegistered]), [BrokenRegistered(name=7)])

    [recorded] = [e async for e in store.read_log(HUB)]

    assert isinstance(recorded.event, CorruptEvent)
    assert recorded.event.type == "InstanceRegistered"
    assert msgspec.msgpack.decode(recorded.event.payload)["name"] == 7


async def test_a_payload_from_a_newer_schema_version_is_never_read_as_the_current_type(
    store: EventStore,
) -> None:
    # Written by a hublog that knows ProbeRan v2; read by one that knows only v1.
    newer = ProbeV2(latency_ms=12.0)
    await write_with(store, codec_v2(), [registered(), newer])
    store.codec = Codec([*CATALOGUE, ProbeV1])

    [_, recorded] = [e async for e in store.read_stream(HUB, A)]

    assert isinstance(recorded.event, UnknownEvent)
    assert (recorded.event.type, recorded.event.schema_version) == ("ProbeRan", 2)
    assert msgspec.msgpack.decode(recorded.event.payload)["latency_ms"] == 12.0


async def store_raw(store: EventStore, schema_version: int, data: bytes) -> None:
    """A ProbeRan record with exactly these payload bytes, as another log holds it."""
    record = StoredEvent(
        hub_id=HUB,
        stream=A,
        version=1,
        position=1,
        event_id=uuid4(),
        type="ProbeRan",
        schema_version=schema_version,
        data=data,
        recorded_at=await store.now(),
    )
    assert await store.import_events(HUB, [record]) == 1


NOT_A_MAP = [[0.25, "/api/tags"], 250, "latency", None]


@pytest.mark.parametrize("payload", NOT_A_MAP, ids=["list", "number", "string", "nil"])
async def test_a_payload_that_is_not_a_map_at_an_older_schema_version_reads_as_corrupt(
    store: EventStore, payload: Any
) -> None:
    # Upcasters take maps: a list or a scalar is never handed to one.
    upcaster_calls: list[Any] = []
    upcasters = Upcasters()
    upcasters.register("ProbeRan", from_version=1)(lambda d: upcaster_calls.append(d) or d)
    data = msgspec.msgpack.encode(payload)
    await store_raw(store, 1, data)
    store.codec = codec_v2(upcasters)

    [recorded] = [e async for e in store.read_log(HUB)]

    assert isinstance(recorded.event, CorruptEvent)
    assert recorded.event.error == f"payload is a {type(payload).__name__}, not a map"
    assert (recorded.event.type, recorded.event.schema_version) == ("ProbeRan", 1)
    assert recorded.event.payload == data  # kept byte for byte, for export
    assert (recorded.type, recorded.schema_version, recorded.position) == ("ProbeRan", 1, 1)
    assert upcaster_calls == []


@pytest.mark.parametrize("payload", NOT_A_MAP, ids=["list", "number", "string", "nil"])
async def test_a_payload_that_is_not_a_map_at_a_newer_schema_version_reads_as_unknown(
    store: EventStore, payload: Any
) -> None:
    data = msgspec.msgpack.encode(payload)
    await store_raw(store, 3, data)
    store.codec = codec_v2()

    [recorded] = [e async for e in store.read_log(HUB)]

    assert isinstance(recorded.event, UnknownEvent)
    assert (recorded.event.type, recorded.event.schema_version) == ("ProbeRan", 3)
    assert recorded.event.payload == data
    assert recorded.event.data() == payload


async def test_a_payload_that_is_not_a_map_at_the_current_schema_version_reads_as_corrupt(
    store: EventStore,
) -> None:
    data = msgspec.msgpack.encode([12.0, "/api/tags"])
    await store_raw(store, 2, data)
    store.codec = codec_v2()

    [recorded] = [e async for e in store.read_log(HUB)]

    assert isinstance(recorded.event, CorruptEvent)
    assert "Expected `object`, got `array`" in recorded.event.error
    assert recorded.event.payload == data
