"""Which events a listing shows: a window of positions (from times or
positions, inclusive at both ends) and filters on stream, instance, type and
correlation id, cut at ``last`` and ``limit``."""

from __future__ import annotations

from contextlib import aclosing
from datetime import timedelta

import anyio
import pytest

from adapters.memory import MemoryEventStore
from adapters.replay.errors import EmptyRange, InvalidInput
from adapters.replay.filters import EventFilter, Window, resolve_types, select_events
from adapters.replay.timeparse import parse_point
from eventstore import LockReleased
from tests.adapters.replay.logs import Clock
from tests.deadlines import within
from tests.eventstore.contract.factories import T0, granted
from tests.projections.script import HUB, S, Script

pytestmark = pytest.mark.anyio


@pytest.fixture
async def log(store: MemoryEventStore, script: Script, clock: Clock) -> MemoryEventStore:
    """Ten events, event N recorded at T0 + (N - 1) minutes:

    1 hub HubStarted, 2 instance/a and 3 instance/b InstanceRegistered,
    4 instance/a HealthChecked (ok), 5 instance/a HealthChanged,
    6 metrics/a MetricsSampled, 7 lock/a LockGranted (correlation wf-1),
    8 instance/b HealthChecked (failed), 9 metrics/b MetricsSampled,
    10 lock/a LockReleased (correlation wf-1).
    """
    steps = [
        lambda: script.started(),
        lambda: script.register("a"),
        lambda: script.register("b"),
        lambda: script.check("a", True),
        lambda: script.change("a", S.UNKNOWN, S.HEALTHY),
        lambda: script.sample("a", clock.now),
        lambda: store.append(HUB, "lock/a", [granted("node-x", 1)], correlation_id="wf-1"),
        lambda: script.check("b", False),
        lambda: script.sample("b", clock.now),
        lambda: store.append(
            HUB, "lock/a", [LockReleased(owner="node-x", token=1)], correlation_id="wf-1"
        ),
    ]
    for minute, step in enumerate(steps):
        clock.at(60 * minute)
        await step()
    assert await store.head(HUB) == 10
    return store


async def positions(store: MemoryEventStore, selection: EventFilter) -> list[int]:
    async with aclosing(select_events(store, HUB, selection)) as events:
        return [e.position async for e in events]


def at(minutes: float) -> str:
    """The ISO text of T0 + ``minutes``."""
    return (T0 + timedelta(minutes=minutes)).isoformat()


async def window(store: MemoryEventStore, **parts: str | int) -> tuple[int, int | None]:
    """``(after, last)`` of a Window of typed points (since, until) and positions."""
    points = {k: parse_point(v) for k, v in parts.items() if k in ("since", "until")}
    numbers = {k: v for k, v in parts.items() if k not in ("since", "until")}
    return await Window(**points, **numbers).positions(store, HUB)  # type: ignore[arg-type]


# --- windows ---------------------------------------------------------------------


async def test_a_window_of_positions_holds_both_ends(log: MemoryEventStore) -> None:
    after, last = await window(log, from_position=4, to_position=7)

    assert (after, last) == (3, 7)
    assert await positions(log, EventFilter(after=after, last=last)) == [4, 5, 6, 7]


async def test_since_and_until_as_positions_are_the_same_window(log: MemoryEventStore) -> None:
    assert await window(log, since="@4", until="@7") == (3, 7)


async def test_a_window_of_times_holds_the_events_recorded_at_both_ends(
    log: MemoryEventStore,
) -> None:
    after, last = await window(log, since=at(3), until=at(6))

    assert await positions(log, EventFilter(after=after, last=last)) == [4, 5, 6, 7]


async def test_a_time_between_two_events_starts_at_the_later_and_ends_at_the_earlier(
    log: MemoryEventStore,
) -> None:
    assert await window(log, since=at(3.5), until=at(6.5)) == (4, 7)  # events 5, 6, 7


async def test_a_window_of_one_instant_holds_what_was_recorded_then(
    log: MemoryEventStore,
) -> None:
    after, last = await window(log, since=at(3), until=at(3))

    assert await positions(log, EventFilter(after=after, last=last)) == [4]


@pytest.mark.parametrize(
    ("parts", "described"),
    [
        ({"since": "@6", "until": "@5"}, "since @6 until @5"),
        ({"from_position": 6, "to_position": 5}, "from position 6 to position 5"),
        ({"since": at(3.5), "until": at(3.5)}, f"since {at(3.5)} until {at(3.5)}"),
        ({"until": at(-1)}, f"until {at(-1)}"),  # before the first event
    ],
    ids=["points", "positions", "one-instant-between-events", "until-before-the-first"],
)
async def test_a_window_whose_ends_meet_between_events_is_empty(
    log: MemoryEventStore, parts: dict[str, str | int], described: str
) -> None:
    with pytest.raises(EmptyRange) as raised:
        await window(log, **parts)

    assert str(raised.value) == f"empty range in hub {HUB!r}: {described} holds no events"


async def test_the_later_start_and_the_earlier_end_win(log: MemoryEventStore) -> None:
    assert await window(log, since="@3", from_position=6) == (5, None)
    assert await window(log, since="@6", from_position=3) == (5, None)
    assert await window(log, until="@9", to_position=4) == (0, 4)
    assert await window(log, until=at(2), to_position=8) == (0, 3)


async def test_a_relative_since_counts_back_from_the_backends_clock(
    log: MemoryEventStore, clock: Clock
) -> None:
    clock.at(9 * 60)  # the last event's time

    assert await window(log, since="4m") == (5, None)  # T0 + 5 min: event 6 on
    assert await window(log, since="0s") == (9, None)  # the last event alone


async def test_a_window_past_the_head_is_left_to_the_reader(log: MemoryEventStore) -> None:
    after, last = await window(log, since="@50")

    assert (after, last) == (49, None)
    assert await positions(log, EventFilter(after=after)) == []


async def test_an_open_window_is_the_whole_log(log: MemoryEventStore) -> None:
    assert await Window().positions(log, HUB) == (0, None)
    assert Window().describe() == "the whole log"
    assert Window(since=parse_point("15m"), to_position=9).describe() == "since 15m to position 9"


# --- filters ---------------------------------------------------------------------


FILTERS = {
    "none": (EventFilter(), list(range(1, 11))),
    "one-type": (EventFilter(types=frozenset({"HealthChecked"})), [4, 8]),
    "two-types": (EventFilter(types=frozenset({"HealthChecked", "MetricsSampled"})), [4, 6, 8, 9]),
    "stream": (EventFilter(stream="lock/a"), [7, 10]),
    "hub-stream": (EventFilter(stream="hub"), [1]),
    "instance": (EventFilter(instance="a"), [2, 4, 5, 6, 7, 10]),  # its instance/, metrics/, lock/
    "other-instance": (EventFilter(instance="b"), [3, 8, 9]),
    "instance-and-types": (
        EventFilter(instance="a", types=frozenset({"HealthChecked", "LockGranted"})),
        [4, 7],
    ),
    "correlation": (EventFilter(correlation="wf-1"), [7, 10]),
    "unknown-correlation": (EventFilter(correlation="wf-2"), []),
    "unknown-instance": (EventFilter(instance="c"), []),
}


@pytest.mark.parametrize(("selection", "expected"), FILTERS.values(), ids=FILTERS.keys())
async def test_filters_keep_log_order(
    log: MemoryEventStore, selection: EventFilter, expected: list[int]
) -> None:
    assert await positions(log, selection) == expected


CUTS = {
    "limit": (EventFilter(limit=3), [1, 2, 3]),
    "limit-counts-matches": (EventFilter(instance="a", limit=2), [2, 4]),
    "last": (EventFilter(last=5), [1, 2, 3, 4, 5]),
    "last-before-the-next-match": (EventFilter(types=frozenset({"HealthChecked"}), last=7), [4]),
    "after-and-limit-past-the-head": (EventFilter(after=8, limit=5), [9, 10]),
    "limit-before-last": (EventFilter(after=3, last=7, limit=2), [4, 5]),
    "last-before-limit": (EventFilter(after=3, last=4, limit=2), [4]),
    "after-the-head": (EventFilter(after=10), []),
}


@pytest.mark.parametrize(("selection", "expected"), CUTS.values(), ids=CUTS.keys())
async def test_last_and_limit_cut_the_listing(
    log: MemoryEventStore, selection: EventFilter, expected: list[int]
) -> None:
    assert await positions(log, selection) == expected


async def test_following_yields_new_events_up_to_the_limit(
    log: MemoryEventStore, script: Script
) -> None:
    found: list[int] = []

    async def follow() -> None:
        selection = EventFilter(after=9, instance="a", limit=2)
        async with aclosing(select_events(log, HUB, selection, follow=True)) as events:
            found.extend([e.position async for e in events])

    with within("following hub events"):
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow)
            await anyio.wait_all_tasks_blocked()
            await script.check("b", True)  # 11: not a's
            await script.check("a", True)  # 12: the limit's second

    assert found == [10, 12]


async def test_following_ends_at_last_without_waiting_for_another_event(
    log: MemoryEventStore, script: Script
) -> None:
    async def follow(selection: EventFilter, into: list[int]) -> None:
        async with aclosing(select_events(log, HUB, selection, follow=True)) as events:
            into.extend([e.position async for e in events])

    up_to_the_head: list[int] = []
    up_to_a_new_event: list[int] = []
    with within("following up to the head"):
        await follow(EventFilter(after=8, last=10), up_to_the_head)
    with within("following up to an event appended later"):
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow, EventFilter(after=10, last=11), up_to_a_new_event)
            await anyio.wait_all_tasks_blocked()
            await script.check("b", True)  # 11

    assert up_to_the_head == [9, 10]
    assert up_to_a_new_event == [11]


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        (
            EventFilter(types=frozenset({"HealthChange", "Zzz"})),
            "unknown event type(s) HealthChange, Zzz (did you mean HealthChanged?); known: ",
        ),
        (EventFilter(stream="instance/{x}"), "bad --stream: "),
        (EventFilter(stream=""), "bad --stream: "),
        (EventFilter(limit=0), "--limit must be at least 1, got 0"),
    ],
    ids=["types", "braces-in-stream", "empty-stream", "limit"],
)
def test_a_filter_no_log_can_match_is_refused(selection: EventFilter, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        selection.check()

    assert str(raised.value).startswith(message)


def test_a_refused_type_lists_every_known_type_sorted() -> None:
    with pytest.raises(InvalidInput) as raised:
        EventFilter(types=frozenset({"Nope"})).check()

    known = str(raised.value).split("; known: ")[1].split(", ")
    assert known == sorted(known) and {"HealthChanged", "MetricsRolledUp"} <= set(known)


def test_a_sound_filter_is_returned_as_is() -> None:
    selection = EventFilter(stream="lock/a", types=frozenset({"LockGranted"}), limit=1)

    assert selection.check() is selection


def test_types_are_read_case_insensitively_from_comma_lists() -> None:
    assert resolve_types(["healthchanged, LOCKGRANTED", "InstanceRecovered", ""]) == frozenset(
        {"HealthChanged", "LockGranted", "InstanceRecovered"}
    )


def test_a_misspelled_type_is_refused_with_the_closest_one() -> None:
    with pytest.raises(InvalidInput) as raised:
        resolve_types(["healthchanged,LockGrant"])

    assert str(raised.value).startswith(
        "unknown event type(s) LockGrant (did you mean LockGranted?); known: "
    )
