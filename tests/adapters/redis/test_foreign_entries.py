"""A hub's Redis Stream is hublog's, but nothing stops another tool writing
into it.  Such an entry must never wedge the hub: readers step over foreign
entries, a damaged own entry reads as a CorruptEvent in its place, and the
next append sets foreign entries aside (kept, not lost) so the hub stays
writable.  Before, one automatic-id XADD made every read die with a raw
KeyError and every later append fail with a raw ResponseError."""

from __future__ import annotations

import json
from contextlib import aclosing

import anyio
import pytest

from adapters.redis import RedisEventStore
from adapters.redis.entries import read_own_page
from adapters.redis.keys import HubKeys
from eventstore import CorruptEvent, RecordedEvent
from projections import HubProjection, ProjectionRunner
from tests.eventstore.contract.factories import checks, registered

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"


def keys_of(store: RedisEventStore) -> HubKeys:
    return HubKeys.of(store.key_prefix, HUB)


def client_of(store: RedisEventStore):  # type: ignore[no-untyped-def]
    assert store.client is not None
    return store.client


async def positions(store: RedisEventStore) -> list[int]:
    return [e.position async for e in store.read_log(HUB)]


async def test_an_automatic_id_entry_is_stepped_over_and_never_blocks_appends(
    store: RedisEventStore,
) -> None:
    await store.append(HUB, A, [registered(), *checks(2)])
    client_of(store).xadd(keys_of(store).log, {"from": "another tool"})  # id "<ms>-0"

    assert await positions(store) == [1, 2, 3]
    assert await store.position_at(HUB, await store.now()) == 3

    result = await store.append(HUB, A, checks(2))

    assert list(result.positions) == [4, 5]
    assert await positions(store) == [1, 2, 3, 4, 5]
    [(entry_id, fields)] = client_of(store).hgetall(keys_of(store).foreign).items()
    assert int(entry_id.split(b"-")[0]) > 5  # the automatic id, kept aside
    assert json.loads(fields) == ["from", "another tool"]


async def test_an_entry_at_the_next_position_without_hublogs_fields_is_foreign(
    store: RedisEventStore,
) -> None:
    await store.append(HUB, A, [registered()])
    client_of(store).xadd(keys_of(store).log, {"s": A}, id="2-0")  # hublog-shaped id, head is 1

    assert await positions(store) == [1]
    assert list((await store.append(HUB, A, checks(1))).positions) == [2]
    [event] = [e async for e in store.read_log(HUB, after=1)]
    assert event.is_readable


async def test_a_foreign_entry_between_own_ones_is_stepped_over(store: RedisEventStore) -> None:
    await store.append(HUB, A, [registered(), *checks(1)])
    client_of(store).xadd(keys_of(store).log, {"x": "1"}, id="2-1")  # between 2-0 and 3-0
    await store.append(HUB, A, checks(2))

    assert await positions(store) == [1, 2, 3, 4]
    store.page_size = 2  # a page that is part foreign is refilled, not taken for the end
    assert await positions(store) == [1, 2, 3, 4]
    assert await store.position_at(HUB, await store.now()) == 4


async def test_a_damaged_own_entry_reads_as_corrupt_and_the_rest_reads_normally(
    store: RedisEventStore,
) -> None:
    await store.append(HUB, A, [registered()])
    keys = keys_of(store)
    # An own entry whose time is garbage (as if written by a broken tool):
    client_of(store).xadd(
        keys.log, {"s": A, "v": "2", "id": "nope", "t": "HealthChecked", "at": "x"}, id="2-0"
    )
    client_of(store).hset(keys.meta, "head", 2)
    await store.append(HUB, "instance/b", [registered("b")])

    events = [e async for e in store.read_log(HUB)]

    assert [e.position for e in events] == [1, 2, 3]
    assert isinstance(events[1].event, CorruptEvent)
    assert "unreadable Redis entry 2-0" in events[1].event.error
    assert events[1].stream == A
    assert events[0].is_readable and events[2].is_readable


async def test_the_runner_quarantines_a_damaged_entry_and_goes_on(store: RedisEventStore) -> None:
    await store.append(HUB, A, [registered()])
    keys = keys_of(store)
    client_of(store).xadd(keys.log, {"s": A, "v": "2"}, id="2-0")
    client_of(store).hset(keys.meta, "head", 2)
    await store.append(HUB, "instance/b", [registered("b")])

    async with store.readmodel_store() as storage:
        position = await ProjectionRunner(store, storage, HubProjection(), HUB).catch_up()

    assert position == 3


async def test_a_subscriber_past_a_foreign_entry_still_gets_new_events(
    store: RedisEventStore,
) -> None:
    await store.append(HUB, A, [registered()])
    client_of(store).xadd(keys_of(store).log, {"from": "another tool"})
    seen: list[RecordedEvent] = []

    with anyio.fail_after(10):
        async with aclosing(store.subscribe(HUB)) as events, anyio.create_task_group() as tg:

            async def append_later() -> None:
                await anyio.sleep(0.2)
                await store.append(HUB, A, checks(2))

            tg.start_soon(append_later)
            async for event in events:
                seen.append(event)
                if len(seen) == 3:
                    break

    assert [e.position for e in seen] == [1, 2, 3]


async def test_a_foreign_entry_deleted_by_hand_leaves_the_hub_writable(
    store: RedisEventStore,
) -> None:
    await store.append(HUB, A, [registered()])
    log = keys_of(store).log
    foreign_id = client_of(store).xadd(log, {"from": "another tool"})
    client_of(store).xdel(log, foreign_id)  # the stream's last id stays above the head

    assert list((await store.append(HUB, A, checks(1))).positions) == [2]
    assert await positions(store) == [1, 2]


async def test_an_import_sets_foreign_entries_aside_too(store: RedisEventStore) -> None:
    await store.append(HUB, A, [registered()])
    source = [e async for e in store.read_log(HUB)]
    client_of(store).xadd(keys_of(store).log, {"from": "another tool"})
    other = "copied-hub"
    client_of(store).xadd(HubKeys.of(store.key_prefix, other).log, {"from": "another tool"})

    from eventstore.envelope import StoredEvent

    stored = [
        StoredEvent(
            hub_id=other,
            stream=e.stream,
            version=e.version,
            position=e.position,
            event_id=e.event_id,
            type=e.type,
            schema_version=e.schema_version,
            data=store.codec.encode(e.event).data,  # type: ignore[arg-type]
            recorded_at=e.recorded_at,
        )
        for e in source
    ]
    assert await store.import_events(other, stored) == 1
    assert [e.event_id async for e in store.read_log(other)] == [source[0].event_id]


async def test_a_foreign_entry_between_own_ones_is_stepped_over_before_an_append_sets_it_aside(
    store: RedisEventStore,
) -> None:
    await store.append(HUB, A, [registered(), *checks(1)])
    keys = keys_of(store)
    client_of(store).xadd(keys.log, {"x": "1"}, id="2-1")
    client_of(store).xadd(keys.log, {"s": A}, id="3-0")  # an own entry, by hand: no append
    client_of(store).hset(keys.meta, "head", 3)

    assert await positions(store) == [1, 2, 3]
    assert [e.position async for e in store.read_log(HUB, after=1)] == [2, 3]


async def test_a_page_read_steps_over_more_foreign_entries_than_it_asked_for(
    store: RedisEventStore,
) -> None:
    """Foreign entries fill whole XRANGE pages: the reader asks again for
    what is missing, from after the last entry seen, and stops at ``limit``."""
    await store.append(HUB, A, [registered(), *checks(1)])  # own 1-0, 2-0
    keys = keys_of(store)
    for seq in (1, 2, 3):
        client_of(store).xadd(keys.log, {"x": str(seq)}, id=f"2-{seq}")
    for position in (3, 4):  # own entries by hand: an append would set the foreign aside
        client_of(store).xadd(keys.log, {"s": A}, id=f"{position}-0")
    client_of(store).hset(keys.meta, "head", 4)

    own, last = read_own_page(client_of(store), keys, 0, 3)

    assert [entry_id for entry_id, _ in own] == [b"1-0", b"2-0", b"3-0"]
    assert str(last) == "3-0"
    assert await positions(store) == [1, 2, 3, 4]


async def test_entries_of_a_hub_without_a_head_are_all_foreign(store: RedisEventStore) -> None:
    keys = keys_of(store)
    client_of(store).xadd(keys.log, {"s": A, "v": "1"}, id="1-0")  # hublog-shaped, no meta

    own, last = read_own_page(client_of(store), keys, 0, 10)

    assert own == []
    assert str(last) == "1-0"


async def test_a_key_named_like_a_hubs_meta_but_not_a_hash_is_no_hub(
    store: RedisEventStore,
) -> None:
    """hubs() lists only hashes: a string another tool left at a meta key's
    name would otherwise be listed, and reading that hub fail on its type."""
    await store.append(HUB, A, checks(1))
    client_of(store).set(HubKeys.of(store.key_prefix, "ghost").meta, "not a hub")

    assert await store.hubs() == [HUB]


async def test_an_event_without_correlation_or_causation_is_stored_without_them(
    store: RedisEventStore,
) -> None:
    """Unset ids are sent as '' and written as no field at all: they read
    back as None, not as some placeholder text."""
    await store.append(HUB, A, checks(1))

    [(_, fields)] = client_of(store).xrange(keys_of(store).log)
    [event] = [e async for e in store.read_log(HUB)]
    assert b"c" not in fields and b"k" not in fields
    assert (event.correlation_id, event.causation_id) == (None, None)
