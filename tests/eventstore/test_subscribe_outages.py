"""subscribe rides out a backend outage: it resumes at the same position, and
gives up with BackendUnavailable only after reconnect_timeout."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import aclosing

import anyio
import pytest

from adapters.memory import MemoryEventStore
from eventstore import BackendUnavailable, StoredEvent
from tests.eventstore.contract.factories import checks

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"


class FlakyStore(MemoryEventStore):
    """The reference store, failing its next ``failures`` log reads."""

    failures = 0

    async def _read_log_page(self, hub_id: str, *, after: int, limit: int) -> Sequence[StoredEvent]:
        if self.failures:
            self.failures -= 1
            raise BackendUnavailable("injected outage")
        return await super()._read_log_page(hub_id, after=after, limit=limit)


async def test_subscribe_resumes_after_an_outage_without_missing_or_repeating() -> None:
    store = FlakyStore()
    store.page_size = 2
    await store.append(HUB, "instance/a", checks(3))
    seen: list[int] = []

    with anyio.fail_after(10):
        async with aclosing(store.subscribe(HUB)) as events:
            async for event in events:
                seen.append(event.position)
                if event.position == 1:
                    store.failures = 3  # the next reads fail, mid-catch-up
                if event.position == 3:
                    await store.append(HUB, "instance/a", checks(2))
                    store.failures = 2  # and again while following live
                if len(seen) == 5:
                    break

    assert seen == [1, 2, 3, 4, 5]


async def test_subscribe_gives_up_after_reconnect_timeout() -> None:
    store = FlakyStore()
    store.reconnect_timeout = 0.3
    store.failures = 10_000

    with anyio.fail_after(10), pytest.raises(BackendUnavailable, match="injected outage"):
        async with aclosing(store.subscribe(HUB)) as events:
            async for _ in events:
                pass
