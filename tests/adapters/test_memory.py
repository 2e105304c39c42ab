"""The memory backend's own clock hook: a clock that goes backwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory import MemoryEventStore
from tests.contract.factories import checks, registered

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"
T = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return request.param


async def test_a_clock_that_goes_backwards_never_records_before_the_hubs_last_event() -> None:
    clock = [T]
    store = MemoryEventStore(clock=lambda: clock[0])
    await store.append(HUB, A, [registered()])
    clock[0] = T - timedelta(minutes=5)  # NTP stepped the clock back
    await store.append(HUB, A, checks(2))
    await store.append("other-hub", A, [registered()])  # another hub has no past to keep to
    clock[0] = T + timedelta(seconds=1)  # and forward again
    await store.append(HUB, A, checks(1))

    assert [(e.position, e.recorded_at) async for e in store.read_log(HUB)] == [
        (1, T),
        (2, T),
        (3, T),
        (4, T + timedelta(seconds=1)),
    ]
    [other] = [e async for e in store.read_log("other-hub")]
    assert other.recorded_at == T - timedelta(minutes=5)
    assert await store.position_at(HUB, T) == 3
    assert await store.position_at(HUB, T - timedelta(minutes=1)) == 0
