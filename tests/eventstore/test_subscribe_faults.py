"""subscribe through outages: the front's retry loop (eventstore/store.py),
on the memory store under both async libraries.

The loop is the same on every backend, and a real server outage
(``tests/eventstore/test_outages.py``, ``tests/eventstore/test_subscribe_outages.py``) takes
seconds of restarts.  The fault is injected at hublog's own backend
interface, not by mocking a server: ``FaultyStore`` below is the memory
store whose ``_read_log_page`` / ``_wait_for_events`` raise
``BackendUnavailable`` on demand, as a backend does when it cannot reach its
server.

An outage ends when the log moves or a wait succeeds, not at any good
read: waits that keep failing between good reads back off and give up
after ``reconnect_timeout`` like failing reads do.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import aclosing

import anyio
import anyio.lowlevel
import pytest

from adapters.memory import MemoryEventStore
from eventstore import BackendUnavailable, StoredEvent
from tests import backends
from tests.deadlines import within
from tests.eventstore.contract.factories import checks
from tests.eventstore.contract.test_subscribe_shared import HUB, LIMIT, A, follow, settled, until

pytestmark = pytest.mark.anyio


anyio_backend = backends.asyncio_and_trio


# --- outages (memory store, faults at the backend interface) ---------------------------


class FaultyStore(MemoryEventStore):
    """The reference store, its log reads and live waits failing on demand.

    ``read_fault`` / ``wait_fault``: the error each read or wait raises while
    set (the same instance every time); ``wait_faults``: how many waits fail
    before ``wait_fault`` is cleared (None: until the test clears it).
    """

    def __init__(self) -> None:
        super().__init__()
        self.read_fault: BackendUnavailable | None = None
        self.wait_fault: BackendUnavailable | None = None
        self.wait_faults: int | None = None
        self.reads = 0
        self.failed_reads = 0
        self.waits = 0

    async def _read_log_page(self, hub_id: str, *, after: int, limit: int) -> Sequence[StoredEvent]:
        self.reads += 1
        fault = self.read_fault
        if fault is not None:
            self.failed_reads += 1
            await anyio.lowlevel.checkpoint()
            raise fault
        return await super()._read_log_page(hub_id, after=after, limit=limit)

    async def _wait_for_events(self, hub_id: str, after: int, woken: anyio.Event) -> None:
        self.waits += 1
        fault = self.wait_fault
        if fault is not None:
            if self.wait_faults is not None:
                self.wait_faults -= 1
                if self.wait_faults == 0:
                    self.wait_fault = None
            await anyio.lowlevel.checkpoint()
            raise fault
        await super()._wait_for_events(hub_id, after, woken)


async def test_a_read_outage_past_reconnect_timeout_raises_its_backend_unavailable() -> None:
    store = FaultyStore()
    store.reconnect_timeout = 0.1
    await store.append(HUB, A, checks(1))
    outage = BackendUnavailable("injected: the log cannot be read")
    seen: list[int] = []
    began = 0.0

    with within("a subscription through a long outage", LIMIT):
        with pytest.raises(BackendUnavailable) as caught:
            async with aclosing(store.subscribe(HUB)) as events:
                async for event in events:
                    seen.append(event.position)
                    if event.position == 1:
                        store.read_fault = outage  # the backend goes away from here on
                        began = anyio.current_time()
                        await store.append(HUB, A, checks(1))  # wakes it into the outage
        gave_up = anyio.current_time()

    assert caught.value is outage
    assert seen == [1]
    assert gave_up - began >= store.reconnect_timeout  # not before the outage outlasted it
    assert store.failed_reads >= 2  # it did retry before giving up
    assert store.reads == store.failed_reads + 1


async def test_with_no_reconnect_timeout_a_failed_read_raises_at_once() -> None:
    store = FaultyStore()
    store.reconnect_timeout = 0.0
    store.read_fault = outage = BackendUnavailable("injected: the log cannot be read")

    with (
        within("a subscription allowing no outage", LIMIT),
        pytest.raises(BackendUnavailable) as caught,
    ):
        async with aclosing(store.subscribe(HUB)) as events:
            async for _ in events:
                pass

    assert caught.value is outage
    assert (store.reads, store.waits) == (1, 0)


async def test_with_no_reconnect_timeout_a_failed_wait_raises_at_once() -> None:
    store = FaultyStore()
    store.reconnect_timeout = 0.0
    await store.append(HUB, A, checks(2))
    store.wait_fault = outage = BackendUnavailable("injected: no notifications")
    seen: list[int] = []

    with (
        within("a subscription allowing no outage", LIMIT),
        pytest.raises(BackendUnavailable) as caught,
    ):
        async with aclosing(store.subscribe(HUB)) as events:
            async for event in events:
                seen.append(event.position)

    assert caught.value is outage
    assert seen == [1, 2]  # caught up first: the wait after the last page failed
    assert (store.reads, store.waits) == (1, 1)


async def test_a_wait_outage_within_reconnect_timeout_resumes_at_the_same_position() -> None:
    store = FaultyStore()
    store.reconnect_timeout = 5.0
    await store.append(HUB, A, checks(1))
    store.wait_fault = BackendUnavailable("injected: no notifications")
    store.wait_faults = 2
    seen: list[tuple[str, int]] = []

    with within("a subscription through a short outage of its waits", LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow, store, HUB, seen, 3)
            await until(lambda: store.wait_fault is None and store.waits == 3)
            await settled()  # now waiting for real
            await store.append(HUB, A, checks(2))

    assert seen == [(HUB, 1), (HUB, 2), (HUB, 3)]  # nothing missed, nothing repeated
    assert store.reads == 4  # a read after each failed wait, one after the wake-up


async def test_waits_failing_between_good_reads_back_off_and_give_up() -> None:
    store = FaultyStore()
    store.reconnect_timeout = 0.3
    await store.append(HUB, A, checks(1))
    store.wait_fault = outage = BackendUnavailable("injected: no notifications")
    began = anyio.current_time()

    with (
        within("a subscription whose waits keep failing", LIMIT),
        pytest.raises(BackendUnavailable) as caught,
    ):
        async with aclosing(store.subscribe(HUB)) as events:
            async for _ in events:
                pass

    assert caught.value is outage
    assert anyio.current_time() - began >= store.reconnect_timeout
    # 0.05 + 0.1 + 0.2 s of backoff, not a re-read every 0.05 s
    assert (store.reads, store.waits) == (4, 4)


async def test_a_read_outage_within_reconnect_timeout_resumes_at_the_same_position() -> None:
    store = FaultyStore()
    store.reconnect_timeout = 5.0
    await store.append(HUB, A, checks(1))
    seen: list[tuple[str, int]] = []

    with within("a subscription through a short outage of its reads", LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow, store, HUB, seen, 3)
            await until(lambda: len(seen) == 1)
            await settled()
            store.read_fault = BackendUnavailable("injected: the log cannot be read")
            await store.append(HUB, A, checks(2))  # wakes the subscriber into the outage
            await until(lambda: store.failed_reads >= 2)
            store.read_fault = None

    assert seen == [(HUB, 1), (HUB, 2), (HUB, 3)]
