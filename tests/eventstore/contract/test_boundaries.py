"""Boundaries at equality, where an off-by-one hides: a time exactly an
event's recorded_at, an event of exactly the size limit."""

from __future__ import annotations

import pytest

from eventstore import DEFAULT_CODEC, EventStore, HubStarted, InvalidEventError, ResourceType

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"


async def test_position_at_exactly_an_events_recorded_at_includes_that_event(
    store: EventStore,
) -> None:
    for _ in range(3):
        await store.append(HUB, "hub", [HubStarted(resource_type=ResourceType.OLLAMA)])
    log = [e async for e in store.read_log(HUB)]

    for event in log:  # "at or before": the event itself counts, and any of the same tick
        by_then = max(e.position for e in log if e.recorded_at <= event.recorded_at)
        assert await store.position_at(HUB, event.recorded_at) == by_then >= event.position


def hub_started_of(size: int) -> HubStarted:
    """A HubStarted whose encoded payload is exactly ``size`` bytes."""
    base = len(DEFAULT_CODEC.encode(HubStarted(resource_type=ResourceType.OLLAMA, node_id="")).data)
    event = HubStarted(resource_type=ResourceType.OLLAMA, node_id="x" * (size - base))
    # MessagePack's string header grows at 32 and 256 characters: adjust once.
    overshoot = len(DEFAULT_CODEC.encode(event).data) - size
    event = HubStarted(resource_type=ResourceType.OLLAMA, node_id="x" * (size - base - overshoot))
    assert len(DEFAULT_CODEC.encode(event).data) == size
    return event


async def test_an_event_of_exactly_max_event_bytes_is_accepted_and_one_more_is_not(
    store: EventStore,
) -> None:
    store.max_event_bytes = 1000

    await store.append(HUB, "hub", [hub_started_of(1000)])
    with pytest.raises(InvalidEventError, match="max_event_bytes"):
        await store.append(HUB, "hub", [hub_started_of(1001)])

    assert await store.head(HUB) == 1
