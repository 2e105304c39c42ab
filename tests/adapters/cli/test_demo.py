"""The demo's log is one real hubs could have written: the folds find no
anomaly, and it tells the story on its own time axis."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from adapters.memory import MemoryEventStore
from adapters.replay.demo import FAILING, run_demo
from eventstore import ResourceStatus
from eventstore.events import RecorderStats, ScalingAdvised
from projections import HealthProjection, HubProjection, MetricsProjection, fold
from tests import backends
from tests.adapters.cli.conftest import hublog

pytestmark = pytest.mark.anyio


anyio_backend = backends.asyncio_only


@pytest.mark.parametrize("minutes", [20, 30])  # 30: the default, whose scale-down removes ollama-4
async def test_the_demo_log_breaks_no_invariant(minutes: int) -> None:
    store = MemoryEventStore()
    result = await run_demo(store, minutes=minutes)
    log = [e async for e in store.read_log(result.hub_id)]

    for projection in (HubProjection(), HealthProjection(), MetricsProjection()):
        state = fold(projection, log)
        assert dict(state.meta.anomaly_counts) == {}, projection.name

    hub = fold(HubProjection(), log)
    live = {i: s.status for i, s in hub.instances.items() if s.registered}
    assert {f"ollama-{n}" for n in (1, 2, 3)} <= set(live)
    assert set(live.values()) == {ResourceStatus.HEALTHY}
    failing = hub.instances[FAILING]
    assert (failing.recoveries, failing.recovery_failures) == (1, 1)


async def test_the_demo_is_recorded_on_the_simulated_clock() -> None:
    store = MemoryEventStore()
    result = await run_demo(store, minutes=20)
    log = [e async for e in store.read_log(result.hub_id)]

    span = log[-1].recorded_at - log[0].recorded_at
    assert timedelta(minutes=19) <= span <= timedelta(minutes=21)
    assert [e.recorded_at for e in log] == sorted(e.recorded_at for e in log)
    assert [e.position for e in log] == list(range(1, len(log) + 1))


async def test_the_demo_tells_the_whole_story() -> None:
    store = MemoryEventStore()
    result = await run_demo(store, minutes=20)
    log = [e async for e in store.read_log(result.hub_id)]
    of = lambda name: [e for e in log if e.type == name]

    assert sorted(e.event.node_id for e in of("HubStarted")) == ["node-a", "node-b"]
    assert {e.event.owner.split("/")[0] for e in of("LockGranted")} == {"node-a", "node-b"}
    assert result.contended > 0  # a max_concurrent server was full
    advice = [e.event for e in of("ScalingAdvised")]
    assert isinstance(advice[0], ScalingAdvised) and advice[0].samples > 0
    assert "scale_up" in {a.action for a in advice}
    joined = [e for e in of("InstanceRegistered") if e.stream == "instance/ollama-4"]
    assert joined and joined[0].position > of("ScalingAdvised")[0].position
    stats = [e.event for e in of("RecorderStats")]
    assert len(stats) == 2 and all(isinstance(s, RecorderStats) for s in stats)
    assert sum(s.spilled for s in stats) > 0  # the outage was ridden out by spilling
    assert all(s.drained == s.spilled and s.dropped == {} for s in stats)
    assert result.events == len(log)


@pytest.mark.parametrize("minutes", ["-5", "0"])
def test_the_demo_command_refuses_minutes_below_one(tmp_path: Path, minutes: str) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"

    result = hublog("--url", url, "demo", "--minutes", minutes)

    assert result.code == 2 and "--minutes" in result.err and "x>=1" in result.err
    assert not (tmp_path / "demo.db").exists()
