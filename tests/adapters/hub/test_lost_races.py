"""A save that loses the race to another writer decides again, after a
growing full-jitter pause, and gives up only after ``ATTEMPTS`` lost races.

The rival is real: after our ``decide``, it appends to the instance's stream
first, as a second process would between our read and our append.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from adapters import open_store
from eventstore import (
    HealthChanged,
    InstanceRegistered,
    ResourceStatus,
    ResourceType,
    WrongExpectedVersion,
    streams,
)
from eventstore.events import Event
from eventstore.store import EventStore
from projections import InstanceState
from projections.deciders import instances, loop
from tests.jitter import Jitter, jitter_fixture

pytestmark = pytest.mark.anyio
jitter = jitter_fixture  # the loop's random, replaced
HUB, ID = "pool", "a"
LIMIT = 30


@pytest.fixture
async def store() -> AsyncIterator[EventStore]:
    async with open_store("memory://") as opened:
        await opened.append(HUB, streams.instance(ID), [registered()])
        yield opened


def registered() -> InstanceRegistered:
    return InstanceRegistered(name=ID, resource_type=ResourceType.OLLAMA, endpoint="http://a")


def health(to: ResourceStatus) -> HealthChanged:
    return HealthChanged(from_status=ResourceStatus.UNKNOWN, to_status=to)


class Rival:
    """A ``decide`` whose store, ``losses`` times, lets a rival append first."""

    def __init__(self, store: EventStore, losses: int) -> None:
        self.inner, self.losses, self.seen = store, losses, 0
        self.store = self._Store(self)

    def __call__(self, state: InstanceState | None) -> list[Event]:
        self.seen += 1
        return [health(ResourceStatus.HEALTHY)]

    class _Store:
        """The store as our append meets it: the rival's append lands first."""

        def __init__(self, rival: Rival) -> None:
            self.rival = rival

        def __getattr__(self, name: str) -> Any:
            return getattr(self.rival.inner, name)

        async def append(self, hub_id: str, stream: str, events: Any, **options: Any) -> Any:
            rival = self.rival
            if rival.seen <= rival.losses:
                await rival.inner.append(hub_id, stream, [health(ResourceStatus.UNHEALTHY)])
            return await rival.inner.append(hub_id, stream, events, **options)


async def test_a_lost_race_is_decided_again_after_a_pause_growing_from_1_ms(
    store: EventStore, jitter: Jitter
) -> None:
    decide = Rival(store, losses=7)
    with anyio.fail_after(LIMIT):
        assert await instances.change(decide.store, HUB, ID, decide) == 1
        events = [e async for e in store.read_stream(HUB, streams.instance(ID))]
    assert decide.seen == 8
    assert [e.version for e in events] == list(range(1, 10))  # ours is last, none lost
    assert events[-1].event.to_status == ResourceStatus.HEALTHY
    assert (loop.BACKOFF, loop.BACKOFF_CAP) == (0.001, 0.05)
    assert jitter.bounds == [
        (0, 0.001), (0, 0.002), (0, 0.004), (0, 0.008), (0, 0.016), (0, 0.032), (0, 0.05)
    ]  # fmt: skip


async def test_attempts_lost_raise_wrong_expected_version_and_write_nothing_of_ours(
    store: EventStore, jitter: Jitter
) -> None:
    decide = Rival(store, losses=loop.ATTEMPTS)
    with anyio.fail_after(LIMIT), pytest.raises(WrongExpectedVersion):
        await instances.change(decide.store, HUB, ID, decide)
    events = [e async for e in store.read_stream(HUB, streams.instance(ID))]
    assert loop.ATTEMPTS == 20
    assert decide.seen == 20
    assert [e.event.to_status for e in events[1:]] == [ResourceStatus.UNHEALTHY] * 20
    assert len(jitter.bounds) == 19  # no pause after the last: the error leaves at once
