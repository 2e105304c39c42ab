"""``diff A B``: what changed in a hub between two points (instances that
appeared or disappeared, status and lease changes), each with the events
between A and B responsible for it."""

from __future__ import annotations

import pytest

from adapters.memory import MemoryEventStore
from adapters.replay.demo import DemoResult
from adapters.replay.diff import Change, diff
from adapters.replay.errors import EmptyRange
from adapters.replay.timeparse import parse_point
from tests.adapters.replay.logs import DEMO_HUB
from tests.projections.script import HUB, Script

pytestmark = pytest.mark.anyio


def summary(changes: list[Change]) -> list[tuple[str, str, str, str, list[int]]]:
    return [(c.kind, c.subject, c.before, c.after, [e.position for e in c.events]) for c in changes]


async def changes_between(store: MemoryEventStore, hub: str, a: str, b: str) -> list[Change]:
    _, _, changes = await diff(store, None, hub, parse_point(a), parse_point(b))
    return changes


async def test_a_status_change_comes_with_each_transition_between_the_points(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    changes = await changes_between(store, DEMO_HUB, "@165", "@179")

    assert summary(changes) == [
        ("status", "ollama-2", "healthy", "unhealthy", [166, 179]),  # via degraded
        (
            "lease",
            "ollama-1",
            "node-a/workflow-2231#19, node-a/workflow-2846#14, node-a/workflow-2966#15",
            "node-a/workflow-2231#19, node-a/workflow-2846#14, node-b/workflow-2837#22",
            [170, 176],
        ),
        (
            "lease",
            "ollama-2",
            "node-a/workflow-7642#15, node-a/workflow-9974#17, node-b/workflow-3322#14",
            (
                "node-a/workflow-5977#19, node-a/workflow-7358#20, node-a/workflow-7642#15, "
                "node-b/workflow-3322#14"
            ),
            [167, 169, 171],
        ),
    ]
    assert [e.type for e in changes[0].events] == ["HealthChanged", "HealthChanged"]


async def test_an_instance_that_joined_appeared_with_its_registration(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    changes = await changes_between(store, DEMO_HUB, "@285", "@290")

    appeared = [c for c in changes if c.kind != "lease"]
    assert summary(appeared) == [("appeared", "ollama-4", "absent", "healthy", [286, 289])]
    assert [e.type for e in appeared[0].events] == ["InstanceRegistered", "HealthChanged"]


async def test_an_instance_that_left_disappeared_with_its_deregistration(
    store: MemoryEventStore, script: Script
) -> None:
    await script.healthy("a")  # 1-3
    await script.healthy("b")  # 4-6
    await script.deregister("a")  # 7

    changes = await changes_between(store, HUB, "@6", "@7")

    assert summary(changes) == [("disappeared", "a", "healthy", "absent", [7])]


async def test_a_lease_change_names_the_holders_before_and_after(
    store: MemoryEventStore, script: Script
) -> None:
    await script.healthy("a")  # 1-3
    await script.grant("a", "node-a", capacity=2)  # 4: token 1
    await script.grant("a", "node-b", capacity=2)  # 5: token 2
    await script.release("a", "node-a", 1)  # 6

    granted = await changes_between(store, HUB, "@3", "@5")
    released = await changes_between(store, HUB, "@5", "@6")
    round_trip = await changes_between(store, HUB, "@4", "@6")

    assert summary(granted) == [("lease", "a", "free", "node-a#1, node-b#2", [4, 5])]
    assert summary(released) == [("lease", "a", "node-a#1, node-b#2", "node-b#2", [6])]
    assert summary(round_trip) == [("lease", "a", "node-a#1", "node-b#2", [5, 6])]


async def test_nothing_changed_between_a_point_and_itself(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    before, after, changes = await diff(
        store, None, DEMO_HUB, parse_point("@179"), parse_point("2026-11-01T11:48:00Z")
    )

    assert (before.position, after.position) == (179, 190)  # same hub state, later position
    assert summary(changes) == summary(await changes_between(store, DEMO_HUB, "@179", "@190"))
    assert await changes_between(store, DEMO_HUB, "@179", "@179") == []


async def test_points_in_the_wrong_order_are_refused(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    with pytest.raises(EmptyRange) as raised:
        await changes_between(store, DEMO_HUB, "@300", "@100")

    assert str(raised.value) == (
        "empty range in hub 'demo-pool': @100 (position 100) comes before @300 "
        "(position 300); give the earlier point first"
    )


async def test_a_change_as_text_and_as_json(store: MemoryEventStore, demo: DemoResult) -> None:
    [status, *_] = await changes_between(store, DEMO_HUB, "@165", "@179")

    text = status.lines()
    data = status.as_json(DEMO_HUB, 165, 179)

    assert text[0] == "status      ollama-2: healthy -> unhealthy (in between: degraded)"
    assert text[1].startswith("          166  2026-11-01 11:47:30.000  instance/ollama-2@19  ")
    assert text[2].split()[:5] == [
        "179",
        "2026-11-01",
        "11:48:00.000",
        "instance/ollama-2@21",
        "HealthChanged",
    ]
    assert {k: v for k, v in data.items() if k != "events"} == {
        "hub_id": DEMO_HUB,
        "from_position": 165,
        "to_position": 179,
        "kind": "status",
        "subject": "ollama-2",
        "before": "healthy",
        "after": "unhealthy",
        "via": ["degraded"],
    }
    assert [(e["position"], e["event"]["to_status"]) for e in data["events"]] == [
        (166, "degraded"),
        (179, "unhealthy"),
    ]


async def test_only_events_between_the_points_are_named_after_retention(
    retained: MemoryEventStore,
) -> None:
    changes = await changes_between(retained, HUB, "@4", "@23")

    assert summary(changes) == [("status", "ollama-1", "healthy", "degraded", [23])]


async def test_a_status_that_changed_and_came_back_is_shown_with_what_it_went_through(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    flapped = await changes_between(store, DEMO_HUB, "@89", "@98")  # ollama-3: degraded, healthy
    outage = await changes_between(store, DEMO_HUB, "@150", "@250")  # ollama-2: down and back
    degraded = await changes_between(store, DEMO_HUB, "@89", "@90")

    assert summary([c for c in flapped if c.kind != "lease"]) == [
        ("status", "ollama-3", "healthy", "healthy", [90, 98])
    ]
    assert flapped[0].via == ["degraded"]
    assert (
        flapped[0].lines()[0] == "status      ollama-3: healthy -> healthy (in between: degraded)"
    )
    assert [(c.subject, c.via) for c in outage if c.kind == "status"] == [
        ("ollama-2", ["degraded", "unhealthy"])
    ]
    assert summary(degraded) == [("status", "ollama-3", "healthy", "degraded", [90])]
