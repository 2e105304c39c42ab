"""``timeline``: an instance's life from its streams (incarnations, health
transitions with how long each status lasted, recoveries, leases with how
long they were held, deregistration), by the hub's own clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory import MemoryEventStore
from adapters.replay.demo import DemoResult
from adapters.replay.filters import Window
from adapters.replay.report import collect
from adapters.replay.timeline import Entry, duration, timeline
from adapters.replay.timeparse import parse_point
from eventstore import InstanceRecovered, RecoveryFailed
from tests.adapters.replay.logs import DAMAGED, DEMO_HUB, UNKNOWN, Clock, stored
from tests.eventstore.contract.factories import T0
from tests.projections.script import HUB, S, Script

pytestmark = pytest.mark.anyio

Row = tuple[float, int, str, str, float | None]


def rows(entries: list[Entry]) -> list[Row]:
    """(seconds after T0, position, kind, detail, lasted) of each entry."""
    return [((e.at - T0).total_seconds(), e.position, e.kind, e.detail, e.seconds) for e in entries]


@pytest.fixture
async def life(store: MemoryEventStore, script: Script, clock: Clock) -> MemoryEventStore:
    """Instance a's life, with b's registration in the log beside it (position 1)."""
    await script.register("b")
    await script.register("a")  # 2
    clock.at(10)
    await script.check("a", True)  # 3
    await script.change("a", S.UNKNOWN, S.HEALTHY, "health check passed")  # 4
    clock.at(70)
    await script.grant("a", "node-x")  # 5: token 1
    clock.at(100)
    await script.release("a", "node-x", 1)  # 6
    for at, status in ((130, None), (160, S.DEGRADED), (190, S.UNHEALTHY)):
        clock.at(at)
        await script.check("a", False)  # 7, 8, 10
        if status is not None:
            was = S.HEALTHY if status is S.DEGRADED else S.DEGRADED
            await script.change("a", was, status, f"failed {script.failures['a']} health checks")
    await script.append("instance/a", RecoveryFailed(error="restart timed out", attempt=1))  # 12
    clock.at(220)
    await script.append("instance/a", InstanceRecovered(method="restart", attempt=2))  # 13
    await script.check("a", True)  # 14
    await script.change("a", S.UNHEALTHY, S.HEALTHY, "health check passed")  # 15
    clock.at(250)
    await script.grant("a", "node-x")  # 16: token 2
    clock.at(280)
    await script.renew("a", "node-x", 2)  # 17
    clock.at(400)
    await script.expire("a", "node-x", 2)  # 18
    clock.at(460)
    await script.deregister("a")  # 19
    clock.at(500)
    await script.register("a")  # 20
    return store


LIFE: list[Row] = [
    (0, 2, "registered", "incarnation 1: a", None),
    (10, 4, "health", "unknown -> healthy (health check passed)", 150),
    (70, 5, "lease granted", "node-x token 1", 30),
    (100, 6, "lease released", "node-x token 1", None),
    (160, 9, "health", "healthy -> degraded (failed 2 health checks)", 30),
    (190, 11, "health", "degraded -> unhealthy (failed 3 health checks)", 30),
    (190, 12, "recovery failed", "attempt 1: restart timed out", None),
    (220, 13, "recovered", "attempt 2 by restart", None),
    (220, 15, "health", "unhealthy -> healthy (health check passed)", 240),  # to deregistration
    (250, 16, "lease granted", "node-x token 2", 150),  # to its expiry
    (280, 17, "lease renewed", "node-x token 2", None),
    (400, 18, "lease expired", "node-x token 2", None),
    (460, 19, "deregistered", "scaled down", None),
    (500, 20, "registered", "incarnation 2: a", None),
]


async def test_an_instances_life_in_order_with_how_long_each_part_lasted(
    life: MemoryEventStore,
) -> None:
    entries, checks = await timeline(life, HUB, "a")

    assert rows(entries) == LIFE
    assert checks == {"checks": 5, "failed": 3}


async def test_since_a_point_shows_the_later_entries_with_the_same_durations(
    life: MemoryEventStore,
) -> None:
    by_position, _ = await timeline(life, HUB, "a", parse_point("@7"))  # a check: no entry
    by_time, _ = await timeline(
        life, HUB, "a", parse_point((T0 + timedelta(seconds=200)).isoformat())
    )

    assert rows(by_position) == LIFE[4:]
    assert rows(by_time) == LIFE[7:]  # 200 s: after position 12, the last by then


async def test_since_a_point_includes_the_entry_at_that_point(life: MemoryEventStore) -> None:
    entries, _ = await timeline(life, HUB, "a", parse_point("@9"))

    assert rows(entries) == LIFE[4:]


@pytest.fixture
async def still_healthy(store: MemoryEventStore, script: Script, clock: Clock) -> MemoryEventStore:
    """a healthy at T0 + 10 s and checked healthy every 30 s until now, T0 + 310 s."""
    await script.register("a")
    clock.at(10)
    await script.check("a", True)
    await script.change("a", S.UNKNOWN, S.HEALTHY, "health check passed")
    for seconds in range(40, 311, 30):
        clock.at(seconds)
        await script.check("a", True)
    return store


async def test_the_current_status_lasts_until_now(still_healthy: MemoryEventStore) -> None:
    entries, _ = await timeline(still_healthy, HUB, "a")

    assert rows(entries)[-1] == (
        10,
        3,
        "health",
        "unknown -> healthy (health check passed) (still)",
        300,
    )


async def test_the_current_status_lasts_until_the_time_given_as_now(
    still_healthy: MemoryEventStore,
) -> None:
    entries, _ = await timeline(still_healthy, HUB, "a", now=T0 + timedelta(seconds=1000))

    assert rows(entries)[-1][4] == 990


async def test_the_current_status_lasts_as_long_as_the_report_says(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    entries, _ = await timeline(store, DEMO_HUB, "ollama-2")
    report = await collect(store, None, DEMO_HUB, Window(), "")

    current = [(e.position, e.seconds) for e in entries if e.kind == "health"][-1]
    reported = [(c.position, c.seconds) for c in report.changes if c.instance_id == "ollama-2"]
    assert current == reported[-1] == (212, 660.0)  # 11:49:00 to the log's end, 12:00:00


async def test_the_current_status_is_marked_still(still_healthy: MemoryEventStore) -> None:
    entries, checks = await timeline(still_healthy, HUB, "a")

    assert [(e.kind, e.detail) for e in entries] == [
        ("registered", "incarnation 1: a"),
        ("health", "unknown -> healthy (health check passed) (still)"),
    ]
    assert checks == {"checks": 11, "failed": 0}


async def test_an_event_of_a_type_this_hublog_does_not_know_is_an_unreadable_entry(
    store: MemoryEventStore, script: Script
) -> None:
    await script.register("a")
    await store.import_events(HUB, [stored(2, "instance/a", 2, UNKNOWN)])

    entries, _ = await timeline(store, HUB, "a")

    assert [(e.position, e.kind, e.detail) for e in entries] == [
        (1, "registered", "incarnation 1: a"),
        (2, "unreadable", "QuotaChanged (kept in the log)"),
    ]


@pytest.fixture
async def damaged(store: MemoryEventStore, script: Script) -> MemoryEventStore:
    """a registered (1), a failed check (2), a check whose bytes are damaged (3)."""
    await script.register("a")
    await script.check("a", False)
    await store.import_events(HUB, [stored(3, "instance/a", 3, DAMAGED)])
    return store


async def test_a_damaged_event_is_an_unreadable_entry_and_no_check(
    damaged: MemoryEventStore,
) -> None:
    entries, checks = await timeline(damaged, HUB, "a")

    assert [(e.position, e.kind, e.detail) for e in entries] == [
        (1, "registered", "incarnation 1: a"),
        (3, "unreadable", "HealthChecked (kept in the log)"),
    ]
    assert checks == {"checks": 1, "failed": 1}


async def test_an_instance_without_events_has_an_empty_timeline(
    store: MemoryEventStore, script: Script
) -> None:
    await script.register("a")

    assert await timeline(store, HUB, "nobody") == ([], {"checks": 0, "failed": 0})


async def test_the_demo_failure_reads_as_transitions_with_durations(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    entries, checks = await timeline(store, DEMO_HUB, "ollama-2")

    health = [(e.position, e.detail, e.seconds) for e in entries if e.kind == "health"]
    assert health[:3] == [
        (10, "unknown -> healthy (health check passed)", 450.0),  # 11:40:00 to 11:47:30
        (166, "healthy -> degraded (failed 2 health checks)", 30.0),  # one check
        (179, "degraded -> unhealthy (failed 3 health checks)", 60.0),  # to the recovery
    ]
    assert [(e.position, e.kind) for e in entries if e.kind.startswith("recover")] == [
        (180, "recovery failed"),
        (195, "recovered"),
    ]
    assert checks == {"checks": 40, "failed": 4}


def test_an_entry_as_a_row_and_as_json() -> None:
    entry = Entry(T0, 16, "lease granted", "node-x token 2", 150.0)

    assert entry.row() == [
        "2026-11-01 12:00:00.000",
        16,
        "lease granted",
        "2m30s",
        "node-x token 2",
    ]
    assert Entry(T0, 6, "lease released", "node-x token 1").row()[3] == "-"
    assert entry.as_json(HUB, "a") == {
        "hub_id": HUB,
        "instance": "a",
        "recorded_at": "2026-11-01T12:00:00Z",
        "position": 16,
        "kind": "lease granted",
        "detail": "node-x token 2",
        "seconds": 150.0,
    }


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.04, "0.0s"),
        (-3, "0.0s"),
        (59.0, "59.0s"),
        (60, "1m00s"),
        (150, "2m30s"),
        (3599, "59m59s"),
        (3600, "1h00m"),
        (7260, "2h01m"),
        (90000, "25h00m"),
    ],
)
def test_a_duration_reads_in_its_largest_units(seconds: float, text: str) -> None:
    assert duration(seconds) == text
