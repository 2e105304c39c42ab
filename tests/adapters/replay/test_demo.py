"""``run_demo`` refuses a simulation that cannot tell the story."""

from __future__ import annotations

import pytest

from adapters.memory import MemoryEventStore
from adapters.replay.demo import run_demo
from adapters.replay.errors import InvalidInput

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("minutes", [-5, 0])
async def test_a_demo_of_no_time_or_negative_time_is_refused(minutes: int) -> None:
    store = MemoryEventStore()

    with pytest.raises(InvalidInput, match=f"minutes must be at least 1, got {minutes}"):
        await run_demo(store, minutes=minutes)

    assert await store.hubs() == []
