"""A lock's history does not slow it down: on a lock stream with 10,000 past
events an acquire makes the same store calls, and reads the same number of
events, as on a fresh one — one read and one conditional append, once the
clock is calibrated (one ``now()`` per service per ``recalibrate_s``)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from eventstore import EventStore, streams
from eventstore.events import LeaseHolder, LockGranted, LockReleased
from projections.deciders.leases import LeaseService

pytestmark = pytest.mark.anyio

HUB = "pool"
PRIMITIVES = ("_append", "_read_stream_page", "_read_log_page", "_stream_version", "_head", "now")


def count_calls(store: EventStore) -> Counter[str]:
    """Wrap the store's primitives (every round trip goes through one)."""
    calls: Counter[str] = Counter()
    for name in PRIMITIVES:
        inner = getattr(store, name)

        async def counted(*args: Any, _inner: Any = inner, _name: str = name, **kw: Any) -> Any:
            result = await _inner(*args, **kw)
            calls[_name] += 1
            if _name == "_read_stream_page":
                calls["events read"] += len(result)
            return result

        setattr(store, name, counted)
    return calls


async def write_history(store: EventStore, resource: str, events: int) -> None:
    """``events`` past grants and releases, as the service writes them."""
    expires = await store.now() - timedelta(hours=1)
    history: list[LockGranted | LockReleased] = []
    for version in range(1, events + 1, 2):
        holder = LeaseHolder(owner="old", token=version, ttl_s=1.0, expires_at=expires)
        history.append(
            LockGranted(
                owner="old", token=version, ttl_s=1.0, expires_at=expires, capacity=2,
                decided_at=expires, holders=(holder,),
            )
        )  # fmt: skip
        history.append(
            LockReleased(
                owner="old", token=version, ttl_s=1.0, expires_at=expires, capacity=2,
                decided_at=expires, holders=(),
            )
        )  # fmt: skip
    for start in range(0, len(history), 500):
        await store.append(HUB, streams.lease(resource), history[start : start + 500])


async def acquire_counted(store: EventStore, resource: str) -> tuple[Counter[str], Counter[str]]:
    """Store calls of a fresh service's first acquire, and of its second."""
    leases = LeaseService(store)
    calls = count_calls(store)
    first = await leases.acquire(HUB, resource, "node-a", ttl=30, capacity=2)
    assert first is not None
    cold = calls.copy()
    calls.clear()
    second = await leases.acquire(HUB, resource, "node-b", ttl=30, capacity=2)
    assert second is not None and second.token == first.token + 1
    return cold, calls.copy()


async def test_a_lock_with_10000_past_events_acquires_like_a_fresh_one(
    store: EventStore,
) -> None:
    await write_history(store, "busy", 10_000)
    assert await store.stream_version(HUB, streams.lease("busy")) == 10_000

    cold_busy, warm_busy = await acquire_counted(store, "busy")
    for name in PRIMITIVES:  # unwrap before the next round of counting
        vars(store).pop(name)
    cold_fresh, warm_fresh = await acquire_counted(store, "fresh")

    round_trips = Counter({"_read_stream_page": 1, "_append": 1})
    # the first acquire of a service also calibrates its clock; a fresh lock
    # has no last event to read
    assert cold_busy == round_trips + Counter({"now": 1, "events read": 1})
    assert cold_fresh == round_trips + Counter({"now": 1})
    assert warm_busy == warm_fresh == round_trips + Counter({"events read": 1})
