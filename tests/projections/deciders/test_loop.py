"""The one decide loop (projections/deciders/loop.py), pinned once: what it
appends, the backoff between lost races, the give-up, the retried append
and the refusals.  The commands built on it (leases, the queue, instance
changes) are tested for their own decisions in their own suites."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.memory import MemoryEventStore
from eventstore import HealthChecked, WrongExpectedVersion
from eventstore.envelope import NO_STREAM
from eventstore.errors import BackendUnavailable
from eventstore.events import Event
from eventstore.retry import RetryPolicy
from projections.deciders import loop
from projections.deciders.loop import Appended, Target, decide_and_append
from tests.jitter import Jitter, jitter_fixture

pytestmark = pytest.mark.anyio
jitter = jitter_fixture  # the loop's random, replaced
HUB, STREAM = "pool", "instance/a"
TARGET = Target(HUB, STREAM, "corr-1")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"



@pytest.fixture
async def store() -> AsyncIterator[MemoryEventStore]:
    async with MemoryEventStore() as opened:
        yield opened


def check() -> HealthChecked:
    return HealthChecked(ok=True, checked_at=datetime.now(UTC), latency_ms=1.0)


class Racing:
    """The store as the loop meets it: ``losses`` rivals append first."""

    def __init__(self, store: MemoryEventStore, losses: int = 0, outages: int = 0) -> None:
        self.store, self.losses, self.outages = store, losses, outages
        self.appends: list[tuple[list[Event], Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def append(self, hub_id: str, stream: str, events: Any, **options: Any) -> Any:
        self.appends.append((events, options["expected_version"]))
        if self.losses:
            self.losses -= 1
            await self.store.append(hub_id, stream, [check()])
        if self.outages:
            self.outages -= 1
            await self.store.append(hub_id, stream, events, **options)  # it lands ...
            raise BackendUnavailable("append: reply lost (injected)")  # ... unheard
        return await self.store.append(hub_id, stream, events, **options)


async def version_of(store: MemoryEventStore) -> tuple[None, int]:
    return None, await store.stream_version(HUB, STREAM)


async def test_the_change_is_appended_expecting_the_version_read(store: MemoryEventStore) -> None:
    racing = Racing(store)
    ours = Appended((check(), check()))
    got = await decide_and_append(racing, TARGET, lambda: version_of(store), lambda _: ours)
    assert got is ours
    assert [expected for _, expected in racing.appends] == [NO_STREAM]
    recorded = [e async for e in store.read_stream(HUB, STREAM)]
    assert [e.event for e in recorded] == list(ours.events)
    assert {e.correlation_id for e in recorded} == {"corr-1"}


async def test_a_refusal_or_an_empty_change_writes_nothing(store: MemoryEventStore) -> None:
    racing = Racing(store)
    empty = Appended(())
    assert (
        await decide_and_append(racing, TARGET, lambda: version_of(store), lambda _: None) is None
    )
    got = await decide_and_append(racing, TARGET, lambda: version_of(store), lambda _: empty)
    assert got is empty
    assert racing.appends == []


async def test_a_lost_race_is_decided_again_on_the_new_state_after_a_growing_pause(
    store: MemoryEventStore, jitter: Jitter
) -> None:
    racing = Racing(store, losses=8)
    seen: list[int] = []

    async def read() -> tuple[int, int]:
        version = await store.stream_version(HUB, STREAM)
        return version, version

    def decide(version: int) -> Appended:
        seen.append(version)
        return Appended((check(),))

    await decide_and_append(racing, TARGET, read, decide)
    assert seen == list(range(9))  # each lost race: a rival's event, then ours is decided again
    assert [expected for _, expected in racing.appends] == [NO_STREAM, *range(1, 9)]
    assert (loop.BACKOFF, loop.BACKOFF_CAP) == (0.001, 0.05)
    assert jitter.bounds == [
        (0, 0.001), (0, 0.002), (0, 0.004), (0, 0.008), (0, 0.016), (0, 0.032), (0, 0.05), (0, 0.05)
    ]  # fmt: skip


async def test_every_attempt_lost_gives_up_with_the_callers_error_and_no_last_pause(
    store: MemoryEventStore, jitter: Jitter
) -> None:
    racing = Racing(store, losses=100)

    def give_up(conflict: WrongExpectedVersion) -> Exception:
        return RuntimeError(f"gave up after {conflict.actual}")

    decide = lambda _: Appended((check(),))
    with pytest.raises(RuntimeError, match="gave up after 3") as raised:
        await decide_and_append(
            racing, TARGET, lambda: version_of(store), decide, attempts=3, give_up=give_up
        )
    assert isinstance(raised.value.__cause__, WrongExpectedVersion)
    assert len(racing.appends) == 3
    assert len(jitter.bounds) == 2  # no pause after the last: the error leaves at once
    with pytest.raises(WrongExpectedVersion):  # without give_up, the conflict itself
        await decide_and_append(racing, TARGET, lambda: version_of(store), decide, attempts=2)
    assert loop.ATTEMPTS == 20


async def test_a_timed_out_append_is_sent_again_with_the_same_events_and_written_once(
    store: MemoryEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loop, "APPEND_RETRY", RetryPolicy(initial=0.001, attempts=5))
    racing = Racing(store, outages=2)
    ours = Appended((check(),))
    assert await decide_and_append(racing, TARGET, lambda: version_of(store), lambda _: ours)
    assert len(racing.appends) == 3
    assert all(events[0] is ours.events[0] for events, _ in racing.appends)
    assert [e.event for e in [e async for e in store.read_stream(HUB, STREAM)]] == [ours.events[0]]


async def test_an_append_that_stays_unavailable_raises_once_its_retries_are_spent(
    store: MemoryEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loop, "APPEND_RETRY", RetryPolicy(initial=0.001, attempts=3))
    racing = Racing(store, outages=3)
    with pytest.raises(BackendUnavailable, match="reply lost"):
        await decide_and_append(
            racing, TARGET, lambda: version_of(store), lambda _: Appended((check(),))
        )
    assert len(racing.appends) == 3


async def test_a_loop_without_attempts_is_refused(store: MemoryEventStore) -> None:
    with pytest.raises(ValueError, match="at least one attempt, got 0"):
        await decide_and_append(
            store, TARGET, lambda: version_of(store), lambda _: None, attempts=0
        )
