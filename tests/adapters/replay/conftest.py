"""Fixtures of the replay library's suite: a memory log on a clock the test
moves, the demo's incident on that clock, and a log after retention.

Asyncio only: the ``hublog`` command runs the library under ``anyio.run``'s
default, and the async library changes nothing the replay code decides.
"""

from __future__ import annotations

import pytest

from adapters.memory import MemoryEventStore
from adapters.replay.demo import DemoResult, run_demo
from tests.adapters.replay.logs import DEMO_MINUTES, Clock, retain_an_hour, sampled_log
from tests.projections.script import Script


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """Module-wide, so a module may build one log for all its tests."""
    return "asyncio"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> MemoryEventStore:
    """An empty memory log on ``clock`` (at T0 until a test moves it)."""
    return MemoryEventStore(clock=clock)


@pytest.fixture
def script(store: MemoryEventStore) -> Script:
    """Writes hub ``HUB``'s life into ``store``."""
    return Script(store)


@pytest.fixture
async def demo(store: MemoryEventStore) -> DemoResult:
    """``store`` holding the demo's incident: hub ``demo-pool``, 11:40 to 12:00 UTC."""
    return await run_demo(store, minutes=DEMO_MINUTES)


@pytest.fixture
async def retained(store: MemoryEventStore, clock: Clock) -> MemoryEventStore:
    """``store`` holding :func:`sampled_log` after :func:`retain_an_hour`."""
    await sampled_log(store, clock)
    await retain_an_hour(store)
    return store
