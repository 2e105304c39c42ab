"""The queue stream's I/O on a memory store, with a clock the test sets:
what a queue reads as (and when it cannot be read), the decision time,
the expected version of each append, a lost race decided again, contention
after every attempt lost, a refusal that writes nothing, and an append
whose reply was lost retried with the same events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar
from uuid import UUID

import pytest
from msgspec.structs import replace

from adapters.memory import MemoryEventStore
from eventstore import CATALOGUE, Codec, Event, streams
from eventstore.backend import Expected
from eventstore.envelope import ANY, NO_STREAM, AppendResult
from eventstore.errors import BackendUnavailable, InvalidEventError
from eventstore.events import QueuedRequest, QueueStateSaved, RequestQueued
from eventstore.retry import RetryPolicy
from projections.deciders import loop
from projections.deciders.leases import BackendClock
from projections.deciders.queue import (
    QueueContention,
    QueueUnreadable,
    ReservationTimeout,
    log,
    rules,
)
from projections.deciders.queue.rules import Change
from projections.deciders.queue.state import QueueView
from tests.jitter import Jitter, jitter_fixture

pytestmark = pytest.mark.anyio
jitter = jitter_fixture  # the loop's random, replaced
HUB = "ollama-pool"
BASE = datetime(2026, 1, 1, tzinfo=UTC)
ZERO = UUID(int=0)


def t(seconds: float) -> datetime:
    return BASE + timedelta(seconds=seconds)


def request(request_id: str, queued: float = 0.0) -> QueuedRequest:
    return QueuedRequest(
        request_id=request_id,
        owner=f"owner-{request_id}",
        ttl_s=30.0,
        heartbeat_s=5.0,
        queued_at=t(queued),
        expires_at=t(queued + 100),
    )


@dataclass(frozen=True)
class Append:
    hub_id: str
    stream: str
    events: list[Event]
    expected: Expected
    correlation_id: str | UUID | None


class Store(MemoryEventStore):
    """A memory store whose clock the test sets, that records each append;
    ``racing`` appends are each preceded by another writer's change to the
    queue, and ``lost_replies`` are written but answered BackendUnavailable."""

    def __init__(self) -> None:
        self.now_ = t(10)
        super().__init__(clock=lambda: self.now_)
        self.appends: list[Append] = []
        self.racing = 0
        self.rivals: list[RequestQueued] = []
        self.lost_replies = 0
        self.raised: list[BackendUnavailable] = []

    async def append(
        self,
        hub_id: str,
        stream: str,
        events: Sequence[Event],
        *,
        expected_version: Expected = ANY,
        correlation_id: str | UUID | None = None,
        causation_id: str | UUID | None = None,
    ) -> AppendResult:
        self.appends.append(Append(hub_id, stream, list(events), expected_version, correlation_id))
        if self.racing:
            self.racing -= 1
            rival = request(f"rival-{len(self.rivals)}", queued=len(self.rivals))
            self.rivals.append(RequestQueued(request=rival, decided_at=t(10), waiting=(rival,)))
            await super().append(HUB, streams.queue(), self.rivals[-1:])
        result = await super().append(
            hub_id,
            stream,
            events,
            expected_version=expected_version,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        if self.lost_replies:
            self.lost_replies -= 1
            self.raised.append(BackendUnavailable("the reply was lost"))
            raise self.raised[-1]
        return result

    async def queue_ids(self) -> list[UUID]:
        return [r.event_id async for r in self.read_stream(HUB, streams.queue())]


class Clock(BackendClock):
    """The backend clock's bounds as the test sets them: ``low``, and one
    second later."""

    def __init__(self, store: Store, low: datetime) -> None:
        super().__init__(store)
        self.low = low

    async def lower(self) -> datetime:
        return self.low

    async def upper(self) -> datetime:
        return self.low + timedelta(seconds=1)


class Decisions:
    """A ``decide`` that joins ``request``, recording what it was shown."""

    def __init__(self, request: QueuedRequest) -> None:
        self.request = request
        self.seen: list[tuple[QueueView, datetime]] = []

    def __call__(self, view: QueueView, at: datetime) -> Change:
        self.seen.append((view, at))
        return rules.join(view, self.request, at)


@pytest.fixture
def store() -> Store:
    return Store()



def queue_log(store: Store, low: datetime | None = None, attempts: int = 5) -> log.QueueLog:
    return log.QueueLog(store, Clock(store, low or t(10)), attempts=attempts)


def ids(events: Sequence[Event]) -> list[UUID]:
    return [e.event_id for e in events]


# --- reading ------------------------------------------------------------------


async def test_a_queue_never_written_reads_as_empty(store: Store) -> None:
    assert await queue_log(store).view(HUB) == QueueView(hub_id=HUB)


async def test_the_queue_reads_as_its_last_event_says(store: Store) -> None:
    a, b = request("a"), request("b", 1)
    first = RequestQueued(request=a, decided_at=t(1), waiting=(a,))
    last = RequestQueued(request=b, decided_at=t(2), waiting=(a, b))
    await store.append(HUB, streams.queue(), [first])
    store.now_ = t(12)
    await store.append(HUB, streams.queue(), [last])
    assert await queue_log(store).view(HUB) == QueueView(
        hub_id=HUB, version=2, waiting=(a, b), changed_at=t(12)
    )
    assert await queue_log(store).view("other-hub") == QueueView(hub_id="other-hub")


async def test_a_bad_hub_id_is_refused(store: Store) -> None:
    with pytest.raises(InvalidEventError):
        await queue_log(store).view(" padded")


class MysteryQueued(Event, frozen=True, kw_only=True):
    """A queue event type only a newer writer knows."""

    category: ClassVar[str | None] = "queue"
    detail: str


class BrokenQueued(Event, tag="RequestQueued", frozen=True, kw_only=True):
    """A ``RequestQueued`` whose payload does not fit the type."""

    category: ClassVar[str | None] = "queue"
    request: int


async def write_with(store: Store, codec: Codec, event: Event) -> None:
    first = RequestQueued(request=request("a"), decided_at=t(1), waiting=(request("a"),))
    await store.append(HUB, streams.queue(), [first])
    reader, store.codec = store.codec, codec
    try:
        await store.append(HUB, streams.queue(), [event])
    finally:
        store.codec = reader


@pytest.mark.parametrize(
    ("event", "type_name"),
    [
        (MysteryQueued(detail="from the future"), "MysteryQueued"),
        (BrokenQueued(request=7), "RequestQueued"),
        (QueueStateSaved(state={"waiting": []}), "QueueStateSaved"),
    ],
    ids=["unknown", "corrupt", "not-a-reservation-event"],
)
async def test_a_queue_whose_last_event_cannot_be_read_is_unreadable_and_unchanged(
    store: Store, event: Event, type_name: str
) -> None:
    await write_with(store, Codec([*CATALOGUE, type(event)]), event)
    before = await store.queue_ids()
    with pytest.raises(QueueUnreadable) as refused:
        await queue_log(store).view(HUB)
    assert str(refused.value) == f"Unreadable queue event: {type_name} at version 2 (Hub: {HUB})"
    assert refused.value.hub_id == HUB
    decisions = Decisions(request("n"))
    with pytest.raises(QueueUnreadable):
        await queue_log(store).change(HUB, decisions, None)
    assert decisions.seen == []
    assert await store.queue_ids() == before


# --- the decision time --------------------------------------------------------


async def test_a_new_queue_is_decided_at_the_backend_clocks_lower_bound(store: Store) -> None:
    decisions = Decisions(request("n"))
    await queue_log(store, low=t(7)).change(HUB, decisions, None)
    assert decisions.seen == [(QueueView(hub_id=HUB), t(7))]


async def test_the_decision_time_is_never_before_the_queues_last_event(store: Store) -> None:
    await queue_log(store, low=t(3)).change(HUB, Decisions(request("a")), None)
    view = await queue_log(store).view(HUB)
    assert view.changed_at == t(10)  # the store's clock stamped it
    behind, ahead = Decisions(request("b")), Decisions(request("c"))
    await queue_log(store, low=t(4)).change(HUB, behind, None)
    assert behind.seen == [(view, t(10))]
    view = await queue_log(store).view(HUB)
    await queue_log(store, low=t(10.5)).change(HUB, ahead, None)
    assert ahead.seen == [(view, t(10.5))]


# --- appending ----------------------------------------------------------------


async def test_the_first_change_expects_no_stream_and_the_next_the_version_read(
    store: Store,
) -> None:
    first, second = Decisions(request("a")), Decisions(request("b", 1))
    one = await queue_log(store).change(HUB, first, "corr-1")
    two = await queue_log(store).change(HUB, second, "corr-2")
    assert one is not None and two is not None
    assert store.appends == [
        Append(HUB, streams.queue(), list(one.events), NO_STREAM, "corr-1"),
        Append(HUB, streams.queue(), list(two.events), 1, "corr-2"),
    ]
    recorded = [r async for r in store.read_stream(HUB, streams.queue())]
    assert [(r.event, r.correlation_id) for r in recorded] == [
        (one.events[0], "corr-1"),
        (two.events[0], "corr-2"),
    ]


async def test_a_change_that_lost_the_race_to_create_the_queue_is_decided_again(
    store: Store, jitter: Jitter
) -> None:
    store.racing = 1
    decisions = Decisions(request("n", 5))
    change = await queue_log(store).change(HUB, decisions, None)
    [rival] = store.rivals
    assert change is not None
    again = rules.join(decisions.seen[1][0], request("n", 5), t(10))
    assert [replace(e, event_id=ZERO) for e in change.events] == [
        replace(e, event_id=ZERO) for e in again.events
    ]
    assert [view for view, _ in decisions.seen] == [
        QueueView(hub_id=HUB),
        QueueView(hub_id=HUB, version=1, waiting=rival.waiting, changed_at=t(10)),
    ]
    assert [a.expected for a in store.appends] == [NO_STREAM, 1]
    assert await store.queue_ids() == [rival.event_id, *ids(change.events)]
    assert jitter.bounds == [(0, loop.BACKOFF)]


async def test_every_attempt_lost_raises_contention_and_writes_nothing_of_ours(
    store: Store, jitter: Jitter
) -> None:
    store.racing = 100
    decisions = Decisions(request("n"))
    with pytest.raises(QueueContention) as refused:
        await queue_log(store, attempts=3).change(HUB, decisions, None)
    assert str(refused.value) == f"Queue contention: 3 attempts lost to other writers (Hub: {HUB})"
    assert (refused.value.hub_id, refused.value.attempts) == (HUB, 3)
    assert len(decisions.seen) == 3
    assert await store.queue_ids() == ids(store.rivals)


async def test_the_backoff_between_lost_races_is_full_jitter_doubling_to_its_cap(
    store: Store, jitter: Jitter
) -> None:
    store.racing = 8
    with pytest.raises(QueueContention):
        await queue_log(store, attempts=8).change(HUB, Decisions(request("n")), None)
    assert (loop.BACKOFF, loop.BACKOFF_CAP) == (0.001, 0.05)
    # Eight lost races, seven pauses: none after the last (the error leaves at once).
    assert jitter.bounds == [
        (0, 0.001), (0, 0.002), (0, 0.004), (0, 0.008), (0, 0.016), (0, 0.032), (0, 0.05)
    ]  # fmt: skip


async def test_a_refusal_writes_nothing(store: Store) -> None:
    def refuse(view: QueueView, at: datetime) -> None:
        return None

    assert await queue_log(store).change(HUB, refuse, None) is None
    empty = Change(events=())
    assert await queue_log(store).change(HUB, lambda view, at: empty, None) is empty
    assert store.appends == []
    assert await store.queue_ids() == []


async def test_an_append_whose_reply_was_lost_is_retried_with_the_same_events(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loop, "APPEND_RETRY", RetryPolicy(initial=0.001, attempts=5))
    store.lost_replies = 2
    change = await queue_log(store).change(HUB, Decisions(request("a")), "corr-1")
    assert change is not None
    events: list[Event] = list(change.events)
    assert store.appends == [Append(HUB, streams.queue(), events, NO_STREAM, "corr-1")] * 3
    assert all(a.events[0] is events[0] for a in store.appends)
    assert await store.queue_ids() == ids(events)  # written once


async def test_an_append_that_stays_unavailable_raises_once_the_retries_are_spent(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loop, "APPEND_RETRY", RetryPolicy(initial=0.001, attempts=3))
    store.lost_replies = 3
    with pytest.raises(BackendUnavailable) as refused:
        await queue_log(store).change(HUB, Decisions(request("a")), None)
    assert refused.value is store.raised[-1]
    assert len(store.appends) == 3


# --- the errors' messages -----------------------------------------------------


def test_the_errors_name_the_hub_and_the_facts() -> None:
    timeout = ReservationTimeout(HUB, "n1", 2.5, "r1")
    assert str(timeout) == f"Reservation timed out: 2.5 s (Hub: {HUB}, Owner: n1, Request: r1)"
    assert (timeout.hub_id, timeout.owner_id, timeout.wait, timeout.request_id) == (
        HUB, "n1", 2.5, "r1",
    )  # fmt: skip
    assert str(ReservationTimeout(HUB, "n1", 30.0, "r1")).startswith("Reservation timed out: 30 s")
    contention = QueueContention(HUB, 40)
    assert str(contention) == f"Queue contention: 40 attempts lost to other writers (Hub: {HUB})"
    assert (contention.hub_id, contention.attempts) == (HUB, 40)
    unreadable = QueueUnreadable(HUB, 9, "RequestMoved")
    assert str(unreadable) == f"Unreadable queue event: RequestMoved at version 9 (Hub: {HUB})"
    assert unreadable.hub_id == HUB
