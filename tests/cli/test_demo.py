"""The demo's log is one a real hub could have written: the folds find no anomaly."""

from __future__ import annotations

import pytest

from adapters.memory import MemoryEventStore
from adapters.replay.demo import FAILING, run_demo
from eventstore import ResourceStatus
from projections import HealthProjection, HubProjection, MetricsProjection, fold

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_the_demo_log_breaks_no_invariant() -> None:
    store = MemoryEventStore()
    result = await run_demo(store, minutes=20)
    log = [e async for e in store.read_log(result.hub_id)]

    for projection in (HubProjection(), HealthProjection(), MetricsProjection()):
        state = fold(projection, log)
        assert dict(state.meta.anomaly_counts) == {}, projection.name

    hub = fold(HubProjection(), log)
    assert {i: s.status for i, s in hub.instances.items()} == {
        f"ollama-{n}": ResourceStatus.HEALTHY for n in (1, 2, 3)
    }
    failing = hub.instances[FAILING]
    assert (failing.recoveries, failing.recovery_failures) == (1, 1)
