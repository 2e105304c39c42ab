"""An own entry (id ``<position>-0`` at or below the head) whose fields
cannot all be read is read back in its place as a CorruptEvent: what could
still be read kept, placeholders for the rest, and an error that names the
entry, the hub and what was wrong."""

from __future__ import annotations

from uuid import uuid4

import pytest
import redis

from adapters.redis import RedisEventStore
from adapters.redis.keys import HubKeys
from eventstore import CorruptEvent, RecordedEvent
from eventstore.envelope import UNREADABLE_ID, UNREADABLE_TIME
from tests.eventstore.contract.factories import registered

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"
PAYLOAD = b"\x81\xa4type\xa1x"


def client_of(store: RedisEventStore) -> redis.Redis:
    assert isinstance(store.client, redis.Redis)
    return store.client


def write_own_entry(store: RedisEventStore, position: int, fields: dict[str, bytes]) -> None:
    """An entry at ``<position>-0``, the head moved up to it, as a broken tool would."""
    keys = HubKeys.of(store.key_prefix, HUB)
    client_of(store).xadd(keys.log, fields, id=f"{position}-0")  # type: ignore[arg-type]
    client_of(store).hset(keys.meta, "head", position)


def damaged(
    *, stream: str, version: int, type_: str, schema_version: int, data: bytes, error: str
) -> RecordedEvent:
    """The record of the own entry at position 2 of HUB, read as corrupt."""
    return RecordedEvent(
        hub_id=HUB,
        stream=stream,
        version=version,
        position=2,
        event_id=UNREADABLE_ID,
        type=type_,
        schema_version=schema_version,
        recorded_at=UNREADABLE_TIME,
        event=CorruptEvent(
            type_, schema_version, data, f"unreadable Redis entry 2-0 of hub {HUB!r}: {error}"
        ),
    )


async def second_of_log(store: RedisEventStore) -> RecordedEvent:
    [first, second] = [e async for e in store.read_log(HUB)]
    assert first.is_readable
    return second


async def test_a_damaged_entry_keeps_its_stream_type_versions_and_payload_when_readable(
    store: RedisEventStore,
) -> None:
    await store.append(HUB, A, [registered()])
    fields = {
        "s": A.encode(),
        "v": b"2",
        "id": str(uuid4()).encode(),
        "t": b"HealthChecked",
        "sv": b"3",
        "d": PAYLOAD,
        "at": b"x",  # not a number of microseconds
    }
    write_own_entry(store, 2, fields)

    assert await second_of_log(store) == damaged(
        stream=A,
        version=2,
        type_="HealthChecked",
        schema_version=3,
        data=PAYLOAD,
        error="invalid literal for int() with base 10: b'x'",
    )


async def test_a_damaged_entry_without_hublogs_fields_reads_as_placeholders_naming_the_field(
    store: RedisEventStore,
) -> None:
    await store.append(HUB, A, [registered()])
    write_own_entry(store, 2, {"from": b"another tool"})

    assert await second_of_log(store) == damaged(
        stream="?",
        version=0,
        type_="?",
        schema_version=0,
        data=b"",
        error="missing field b's'",
    )


async def test_a_damaged_entry_with_text_that_is_not_utf8_and_numbers_that_are_not_numbers(
    store: RedisEventStore,
) -> None:
    await store.append(HUB, A, [registered()])
    fields = {"s": b"\xff", "v": b"two", "t": b"\xfe", "sv": b"1", "d": PAYLOAD, "at": b"1"}
    write_own_entry(store, 2, fields)

    assert await second_of_log(store) == damaged(
        stream="?",
        version=0,
        type_="?",
        schema_version=1,
        data=PAYLOAD,
        error="'utf-8' codec can't decode byte 0xff in position 0: invalid start byte",
    )


async def test_events_read_by_stream_name_their_hub_a_damaged_one_too(
    store: RedisEventStore,
) -> None:
    await store.append(HUB, A, [registered()])
    keys = HubKeys.of(store.key_prefix, HUB)
    write_own_entry(store, 2, {"s": A.encode(), "v": b"2", "t": b"HealthChecked", "d": PAYLOAD})
    client_of(store).zadd(keys.index, {f"{A}\0{2:016d}\0{2}": 0})  # found by version, as appended
    client_of(store).hset(keys.versions, A, 2)

    events = [e async for e in store.read_stream(HUB, A)]

    assert [(e.hub_id, e.stream, e.version, e.position) for e in events] == [
        (HUB, A, 1, 1),
        (HUB, A, 2, 2),
    ]
    assert events[0].is_readable
    assert events[1] == damaged(
        stream=A,
        version=2,
        type_="HealthChecked",
        schema_version=0,
        data=PAYLOAD,
        error="missing field b'id'",
    )
