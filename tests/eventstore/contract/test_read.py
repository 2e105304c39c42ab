"""read_stream, read_log, hubs, head: windows, directions, limits, paging, bad arguments."""

from __future__ import annotations

import pytest

from eventstore import EventStore, InvalidEventError, StoreClosed
from tests.eventstore.contract.factories import checks, registered, sampled

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"


async def versions(store: EventStore, stream: str = A, **kwargs) -> list[int]:
    return [e.version async for e in store.read_stream(HUB, stream, **kwargs)]


async def positions(store: EventStore, hub: str = HUB, **kwargs) -> list[int]:
    return [e.position async for e in store.read_log(hub, **kwargs)]


@pytest.fixture
async def ten(store: EventStore) -> EventStore:
    """Stream A at version 10, interleaved with a metrics stream."""
    await store.append(HUB, A, [registered(), *checks(4)])
    await store.append(HUB, "metrics/a", [sampled()])
    await store.append(HUB, A, checks(5))
    return store


async def test_read_stream_forwards(ten: EventStore) -> None:
    assert await versions(ten) == list(range(1, 11))


async def test_read_stream_backwards(ten: EventStore) -> None:
    assert await versions(ten, backwards=True) == list(range(10, 0, -1))


async def test_read_stream_after_version(ten: EventStore) -> None:
    assert await versions(ten, after_version=7) == [8, 9, 10]


async def test_read_stream_window_backwards_with_limit(ten: EventStore) -> None:
    assert await versions(ten, after_version=2, before_version=9, backwards=True, limit=3) == [
        8,
        7,
        6,
    ]


async def test_read_stream_window_forwards_with_limit(ten: EventStore) -> None:
    assert await versions(ten, after_version=2, before_version=9, limit=3) == [3, 4, 5]


async def test_read_stream_limit_zero_reads_nothing(ten: EventStore) -> None:
    assert await versions(ten, limit=0) == []


async def test_last_event_is_the_newest(ten: EventStore) -> None:
    last = await ten.last_event(HUB, A)

    assert last is not None and last.version == 10 and last.position == 11
    assert await ten.last_event(HUB, "instance/none") is None


async def test_paging_is_invisible_to_readers(ten: EventStore) -> None:
    ten.page_size = 3

    assert await versions(ten) == list(range(1, 11))
    assert await versions(ten, backwards=True, limit=7) == list(range(10, 3, -1))
    assert await positions(ten) == list(range(1, 12))
    assert await positions(ten, after=4, limit=5) == [5, 6, 7, 8, 9]


async def test_read_log_after_and_limit(ten: EventStore) -> None:
    assert await positions(ten, after=9) == [10, 11]
    assert await positions(ten, limit=2) == [1, 2]
    assert await positions(ten, after=11) == []


async def test_a_missing_stream_or_hub_reads_empty(store: EventStore) -> None:
    assert await versions(store, "instance/ghost") == []
    assert await positions(store, "no-such-hub") == []
    assert await store.stream_version(HUB, "instance/ghost") == 0
    assert await store.head("no-such-hub") == 0
    assert await store.hubs() == []


async def test_read_stream_returns_only_that_stream(ten: EventStore) -> None:
    events = [e async for e in ten.read_stream(HUB, "metrics/a")]

    assert [(e.stream, e.version, e.position) for e in events] == [("metrics/a", 1, 6)]


async def test_reads_decode_the_stored_event(store: EventStore) -> None:
    event = registered()
    await store.append(HUB, A, [event])

    [recorded] = [e async for e in store.read_stream(HUB, A)]

    assert recorded.event == event
    assert recorded.is_readable


@pytest.mark.parametrize(
    "kwargs",
    [{"after_version": -1}, {"before_version": -2}, {"limit": -1}, {"after_version": "3"}],
)
async def test_bad_read_stream_arguments_are_refused(store: EventStore, kwargs) -> None:
    with pytest.raises(InvalidEventError):
        await versions(store, **kwargs)


@pytest.mark.parametrize("kwargs", [{"after": -1}, {"limit": 1.5}])
async def test_bad_read_log_arguments_are_refused(store: EventStore, kwargs) -> None:
    with pytest.raises(InvalidEventError):
        await positions(store, **kwargs)


async def test_a_closed_store_refuses_work(store: EventStore) -> None:
    await store.close()
    await store.close()  # idempotent

    with pytest.raises(StoreClosed):
        await store.append(HUB, A, [registered()])
    with pytest.raises(StoreClosed):
        await positions(store)
