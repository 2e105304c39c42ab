"""A save costs the same with 10 or 10,000 events in the instance's stream.

The store's primitives (every round trip goes through one) are counted,
and the events they read: a warm save is one conditional append and reads
nothing; a fresh adapter's first save, on a hub whose read model is
current, reads the read model and the stream's tail (empty), never the
stream's history.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from adapters.hub import HubPersistenceAdapter
from eventstore import HealthChecked, streams
from eventstore.store import EventStore
from tests.hub.fixtures import adapter, anyio_backend, backend
from tests.hub.instances import Instance
from tests.leases.test_round_trips import count_calls

__all__ = ["adapter", "anyio_backend", "backend"]

pytestmark = pytest.mark.anyio
HUB = "busy-pool"


async def with_history(adapter: HubPersistenceAdapter, name: str, events: int) -> Instance:
    """``name`` registered and healthy, then ``events`` passing checks in its stream."""
    instance = Instance(name)
    await adapter.save_instance(HUB, instance)
    store = await adapter.session.store()
    start = datetime.now(UTC) - timedelta(days=30)
    checks = [
        HealthChecked(ok=True, checked_at=start + timedelta(seconds=30 * n))
        for n in range(events)
    ]
    for first in range(0, len(checks), 500):
        await store.append(HUB, streams.instance(name), checks[first : first + 500])
    return instance


def health_check_now(instance: Instance) -> None:
    """What a hub does before saving: a new check, here a failed one."""
    instance.health_checks_failed += 1
    instance.last_health_check = datetime.now(UTC)


async def counted_saves(
    url: str, store_of_writer: EventStore, instance: Instance
) -> tuple[Counter[str], Counter[str]]:
    """Store calls of a fresh adapter's first save of ``instance``, and of its second."""
    fresh = HubPersistenceAdapter(url)
    try:
        await fresh.list_instances(HUB)  # the read model, current (what the adapter keeps)
        store = await fresh.session.store()
        calls = count_calls(store)
        health_check_now(instance)
        await fresh.save_instance(HUB, instance)
        cold = calls.copy()
        calls.clear()
        health_check_now(instance)
        await fresh.save_instance(HUB, instance)
        return cold, calls.copy()
    finally:
        await fresh.shutdown()


async def test_a_save_costs_the_same_with_10_or_10000_events_in_the_stream(
    adapter: HubPersistenceAdapter, store_url: str
) -> None:
    short = await with_history(adapter, "short", 10)
    long = await with_history(adapter, "long", 10_000)
    store = await adapter.session.store()
    assert await store.stream_version(HUB, streams.instance("long")) > 10_000

    cold_short, warm_short = await counted_saves(store_url, store, short)
    cold_long, warm_long = await counted_saves(store_url, store, long)

    assert warm_long == warm_short == Counter({"_append": 1})
    assert cold_long == cold_short
    assert cold_long["events read"] == 0  # the tail after the read model's row: empty
    assert cold_long["_append"] == 1
