"""subscribe: catch up, then follow live; every event once, in order; clean endings."""

from __future__ import annotations

from contextlib import aclosing

import anyio
import pytest

from adapters import open_store
from eventstore import EventStore, RecordedEvent
from tests.eventstore.contract.factories import checks, registered

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"


async def collect(store: EventStore, n: int, into: list[RecordedEvent], after: int = 0) -> None:
    async with aclosing(store.subscribe(HUB, after=after)) as events:
        async for event in events:
            into.append(event)
            if len(into) == n:
                return


async def test_subscribe_catches_up_then_follows_live(store: EventStore) -> None:
    await store.append(HUB, A, [registered(), *checks(2)])
    seen: list[RecordedEvent] = []

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(collect, store, 6, seen, 1)
            await anyio.sleep(0.05)
            await store.append(HUB, A, checks(2))
            await store.append(HUB, A, checks(2))

    assert [e.position for e in seen] == [2, 3, 4, 5, 6, 7]


async def test_subscribe_ignores_other_hubs(store: EventStore) -> None:
    seen: list[RecordedEvent] = []

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(collect, store, 2, seen)
            await anyio.sleep(0.02)
            await store.append("other-hub", A, checks(3))
            await store.append(HUB, A, checks(2))

    assert [(e.hub_id, e.position) for e in seen] == [(HUB, 1), (HUB, 2)]


async def test_cancelling_a_subscriber_ends_it_cleanly(store: EventStore) -> None:
    seen: list[RecordedEvent] = []
    await store.append(HUB, A, checks(2))

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(collect, store, 100, seen)
            await anyio.sleep(0.1)
            tg.cancel_scope.cancel()

    assert [e.position for e in seen] == [1, 2]
    # the store is still usable after the cancelled subscription
    assert (await store.append(HUB, A, checks(1))).last_position == 3


async def test_closing_the_store_ends_its_subscriptions(store: EventStore) -> None:
    seen: list[RecordedEvent] = []

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(collect, store, 100, seen)
            await anyio.sleep(0.05)
            await store.append(HUB, A, checks(1))
            await anyio.sleep(0.05)
            await store.close()

    assert [e.position for e in seen] == [1]


async def test_a_subscriber_sees_appends_of_another_store_on_the_same_url(
    store_url: str, store: EventStore
) -> None:
    if store_url.startswith("memory://"):
        # memory:// stores share nothing by design: another one is another log
        async with open_store(store_url) as other:
            await other.append(HUB, A, checks(3))
        assert await store.head(HUB) == 0
        return
    seen: list[RecordedEvent] = []

    async with open_store(store_url) as other:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(collect, store, 3, seen)
                await anyio.sleep(0.05)
                await other.append(HUB, A, checks(3))

    assert [e.position for e in seen] == [1, 2, 3]
