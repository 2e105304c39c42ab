"""The hub API at constant cost: what each call sends to the backend, on
its caller's path, does not grow with an instance's history.

The store's primitives and the read-model store's methods are counted (each
is one round trip on SQL and Redis), for the calling task only: the
adapter's background followers keep the read models current beside it, and
a read then only confirms that nothing is left to fold.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest

from adapters.hub import HubPersistenceAdapter
from eventstore import HealthChecked, streams
from projections.deciders.leases import LeaseService
from tests.adapters.hub.instances import Instance, OllamaConfig

pytestmark = pytest.mark.anyio
HUB = "busy-pool"
STORE_CALLS = ("_append", "_read_stream_page", "_read_log_page", "_stream_version", "_head", "now")
STORAGE_CALLS = ("get", "scan", "find", "commit", "checkpoint", "tables", "hubs", "snapshot")


class CallerCalls(Counter[str]):
    """The round trips of the task that made this counter, by primitive."""

    def __init__(self, adapter: HubPersistenceAdapter) -> None:
        super().__init__()
        self.adapter = adapter
        self.caller = asyncio.current_task()

    async def install(self) -> CallerCalls:
        self._wrap(await self.adapter.session.store(), STORE_CALLS)
        self._wrap(await self.adapter.session.storage(), STORAGE_CALLS)
        return self

    def _wrap(self, target: Any, names: tuple[str, ...]) -> None:
        for name in names:
            inner = getattr(target, name)

            async def counted(*args: Any, _inner: Any = inner, _name: str = name, **kw: Any) -> Any:
                if asyncio.current_task() is self.caller:
                    self[_name] += 1
                return await _inner(*args, **kw)

            setattr(target, name, counted)

    async def of(self, call: Any) -> Counter[str]:
        """The round trips ``call()`` makes, once the followers are current."""
        await until_followed(self.adapter)
        self.clear()
        await call()
        return Counter(self)


async def until_followed(adapter: HubPersistenceAdapter) -> None:
    """Until every read model the adapter follows has folded its hub's log."""
    store = await adapter.session.store()
    with anyio.fail_after(10):
        for runner, _ in list(adapter.session._runners.values()):
            while runner.position < await store.head(runner.hub_id):
                await anyio.sleep(0.005)


async def with_history(adapter: HubPersistenceAdapter, name: str, events: int) -> Instance:
    """``name`` registered and healthy, then ``events`` passing checks in its stream."""
    instance = Instance(name)
    await adapter.save_instance(HUB, instance)
    store = await adapter.session.store()
    start = datetime.now(UTC) - timedelta(days=30)
    checks = [
        HealthChecked(ok=True, checked_at=start + timedelta(seconds=30 * n)) for n in range(events)
    ]
    for first in range(0, len(checks), 500):
        await store.append(HUB, streams.instance(name), checks[first : first + 500])
    return instance


def health_check_now(instance: Instance) -> None:
    """What a hub does before saving: a new check, here a failed one."""
    instance.health_checks_failed += 1
    instance.last_health_check = datetime.now(UTC)


async def saves_of_a_fresh_adapter(url: str, instance: Instance) -> tuple[Counter[str], ...]:
    """Round trips of a fresh adapter's first save of ``instance``, and of its second."""
    fresh = HubPersistenceAdapter(url)
    try:
        await fresh.list_instances(HUB)  # its hub read model, current
        calls = await CallerCalls(fresh).install()
        health_check_now(instance)
        cold = await calls.of(lambda: fresh.save_instance(HUB, instance))
        health_check_now(instance)
        warm = await calls.of(lambda: fresh.save_instance(HUB, instance))
        return cold, warm
    finally:
        await fresh.shutdown()


async def test_a_save_costs_the_same_with_10_or_10000_events_in_the_stream(
    adapter: HubPersistenceAdapter, store_url: str
) -> None:
    short = await with_history(adapter, "short", 10)
    long = await with_history(adapter, "long", 10_000)
    store = await adapter.session.store()
    assert await store.stream_version(HUB, streams.instance("long")) > 10_000

    cold_short, warm_short = await saves_of_a_fresh_adapter(store_url, short)
    cold_long, warm_long = await saves_of_a_fresh_adapter(store_url, long)

    assert warm_long == warm_short == Counter({"_append": 1})
    # First sight: the read model's row (held by the followed runner), the
    # stream's tail after it (empty), the append.
    assert cold_long == cold_short == Counter({"_read_stream_page": 1, "_append": 1})


async def test_each_warm_call_keeps_its_round_trip_budget_whatever_the_history(
    adapter: HubPersistenceAdapter,
) -> None:
    instance = await with_history(adapter, "x", 10_000)
    health_check_now(instance)
    await adapter.save_instance(HUB, instance)  # its view of the stream: current again
    now = datetime.now(UTC)
    await adapter.save_metrics("x", {"cpu_usage": 1.0, "memory_usage": 2.0})
    await adapter.load_instance("x")
    await adapter.get_metrics_history("x", now - timedelta(hours=1), now + timedelta(hours=1))
    assert await adapter.acquire_lock("x", "me")
    await adapter.release_lock("x", "me")
    calls = await CallerCalls(adapter).install()

    health_check_now(instance)
    assert await calls.of(lambda: adapter.save_instance(HUB, instance)) == {"_append": 1}
    sample = {"cpu_usage": 3.0, "memory_usage": 4.0}
    assert await calls.of(lambda: adapter.save_metrics("x", sample)) == {"_append": 1}
    assert await calls.of(lambda: adapter.load_instance("x")) == {"_read_log_page": 1}
    assert await calls.of(lambda: adapter.list_instances(HUB)) == {"_read_log_page": 1}
    window = (now - timedelta(hours=1), now + timedelta(hours=1))
    history = await calls.of(lambda: adapter.get_metrics_history("x", *window))
    assert history == {"_read_log_page": 1, "scan": 1}
    # The lock as this adapter's last change left it: one conditional append.
    assert await calls.of(lambda: adapter.acquire_lock("x", "me")) == {"_append": 1}
    assert await calls.of(lambda: adapter.release_lock("x", "me")) == {"_append": 1}


async def test_a_lock_changed_elsewhere_is_read_again_never_refused_from_the_kept_view(
    adapter: HubPersistenceAdapter,
) -> None:
    """The adapter keeps each lock as its last change left it; another
    writer's change makes that view stale: a grant then loses its race and
    reads again, and a refusal is only ever given after reading the lock."""
    await adapter.save_instance(HUB, Instance("m", config=OllamaConfig(max_concurrent=1)))
    elsewhere = LeaseService(await adapter.session.store())  # another process's service
    assert await adapter.acquire_lock("m", "here")  # kept: held by "here"
    [held] = await elsewhere.holders(HUB, "m")
    assert await elsewhere.release(HUB, "m", "here", held.token)  # "here" elsewhere lets go
    assert await adapter.acquire_lock("m", "next")  # the kept view said full: read, granted
    await adapter.release_lock("m", "next")
    assert await adapter.acquire_lock("m", "here")
    await adapter.release_lock("m", "here")  # kept: free, at its version
    theirs = await elsewhere.acquire(HUB, "m", "there", ttl=30, capacity=1)
    assert theirs is not None  # the kept view is stale now
    assert not await adapter.acquire_lock("m", "here")  # refused after reading the lock
    assert await elsewhere.release(HUB, "m", "there", theirs.token)
    assert await adapter.acquire_lock("m", "here")  # the kept view said held: read again
    assert await adapter.get_lock_owner("m") == "here"
