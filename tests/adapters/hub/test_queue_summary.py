"""The queue in the hub summary and in the advisor's reasons, through the
hub API, on every backend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import anyio
import pytest

from adapters.hub import HubPersistenceAdapter
from adapters.hub.advice import advise_hub
from projections.advisor import ScalingPolicy
from tests.adapters.hub.instances import Instance, Metrics, OllamaConfig

pytestmark = pytest.mark.anyio
HUB = "ollama-pool"
LIMIT = 30
POLICY = ScalingPolicy(max_concurrent=1, min_samples=3)


async def idle_one_slot_pool(adapter: HubPersistenceAdapter) -> None:
    """One instance of one slot whose metrics say idle: only the queue can
    tell that it is full."""
    config = OllamaConfig(models=["llama3"], max_concurrent=1)
    await adapter.save_instance(HUB, Instance("a", config=config))
    for _ in range(3):
        await adapter.save_metrics("a", Metrics(active_connections=0))


async def until_depth(adapter: HubPersistenceAdapter, depth: int) -> None:
    while (await adapter.queue_stats(HUB)).depth < depth:
        await anyio.sleep(0.01)


def waiting(adapter: HubPersistenceAdapter, owner: str) -> Callable[[], object]:
    return lambda: adapter.reserve(HUB, owner_id=owner, ttl=30, wait=LIMIT)


async def test_the_summary_reports_the_queue(adapter: HubPersistenceAdapter) -> None:
    with anyio.fail_after(LIMIT):
        await idle_one_slot_pool(adapter)
        before = await adapter.get_resource_utilization(HUB)
        assert (before["queue_depth"], before["oldest_wait_s"]) == (0, 0.0)
        await adapter.reserve(HUB, owner_id="holder", ttl=30)
        async with anyio.create_task_group() as tg:
            tg.start_soon(waiting(adapter, "w1"))
            await until_depth(adapter, 1)
            summary = await adapter.get_resource_utilization(HUB)
            tg.cancel_scope.cancel()
        assert summary["queue_depth"] == summary["queue"]["depth"] == 1
        assert summary["oldest_wait_s"] == summary["queue"]["oldest_wait_s"] >= 0
        assert {"wait_p50_s", "wait_p90_s", "wait_p99_s"} <= set(summary["queue"])
        stored = await (await adapter.session.reader()).summary(HUB)
        assert stored is not None and stored.queue_depth is None  # the hub model knows no queue


async def test_a_deep_queue_makes_the_advice_scale_up(adapter: HubPersistenceAdapter) -> None:
    with anyio.fail_after(LIMIT):
        await idle_one_slot_pool(adapter)
        now = datetime.now(UTC) + timedelta(seconds=1)  # after every sample
        idle = await advise_hub(adapter, HUB, policy=POLICY, now=now)
        assert (idle.action, idle.queue_depth) == ("hold", 0)
        await adapter.reserve(HUB, owner_id="holder", ttl=30)
        async with anyio.create_task_group() as tg:
            for owner in ("w1", "w2"):
                tg.start_soon(waiting(adapter, owner))
            await until_depth(adapter, 2)
            advice = await advise_hub(adapter, HUB, policy=POLICY, now=now)
            tg.cancel_scope.cancel()
        assert (advice.action, advice.queue_depth) == ("scale_up", 2)
        assert advice.suggested_instances > advice.current_instances == 1
        assert "queued" in advice.reason
