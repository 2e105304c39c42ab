"""``state``: a hub as it was at a position or a time, replayed from the
nearest snapshot; and its text and JSON views."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.memory import MemoryEventStore, MemoryReadModelStore
from adapters.replay.demo import DemoResult
from adapters.replay.errors import OutsideLog
from adapters.replay.state import as_json, lines, state, view_at
from adapters.replay.timeparse import parse_point
from projections import HubProjection, HubView, InvalidQuery, rebuild
from tests.adapters.replay.logs import DEMO_HEAD, DEMO_HUB, Clock
from tests.projections.script import HUB, Script

pytestmark = pytest.mark.anyio

UNHEALTHY_AT = 179
"""Where the demo's failing server, ollama-2, went unhealthy (11:48:00)."""


def statuses(view: HubView) -> dict[str, str]:
    return {iid: instance.status.value for iid, instance in view.instances.items()}


async def test_the_hub_at_a_position(store: MemoryEventStore, demo: DemoResult) -> None:
    view = await view_at(store, None, DEMO_HUB, parse_point(f"@{UNHEALTHY_AT}"))

    assert (view.position, view.as_of) == (UNHEALTHY_AT, datetime(2026, 11, 1, 11, 48, tzinfo=UTC))
    assert statuses(view) == {"ollama-1": "healthy", "ollama-2": "unhealthy", "ollama-3": "healthy"}
    assert (view.summary.registered, view.summary.available, view.summary.lease_holders) == (
        3,
        2,
        11,
    )
    assert view.replayed == UNHEALTHY_AT  # no storage: from position 0


async def test_the_hub_at_a_time_is_the_hub_at_the_last_event_recorded_by_then(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    when = datetime(2026, 11, 1, 11, 48, tzinfo=UTC)
    last = max([e.position async for e in store.read_log(DEMO_HUB) if e.recorded_at <= when])

    view = await view_at(store, None, DEMO_HUB, parse_point("2026-11-01T11:48:00Z"))

    assert view.position == last == 190
    assert statuses(view)["ollama-2"] == "unhealthy"


async def test_a_relative_time_counts_back_from_the_backends_clock(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    now = await view_at(store, None, DEMO_HUB, parse_point("0s"))
    earlier = await view_at(store, None, DEMO_HUB, parse_point("12m"))  # 11:48:00

    assert now.position == DEMO_HEAD
    assert statuses(now) == {f"ollama-{n}": "healthy" for n in (1, 2, 3, 4)}  # all recovered
    assert earlier.position == 190


async def test_before_the_first_event_the_hub_is_empty(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    view = await view_at(store, None, DEMO_HUB, parse_point("@0"))

    assert (view.position, view.as_of, view.instances, view.replayed) == (0, None, {}, 0)


async def test_a_position_beyond_the_head_is_refused(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    with pytest.raises(InvalidQuery) as raised:
        await view_at(store, None, DEMO_HUB, parse_point(f"@{DEMO_HEAD + 1}"))

    assert str(raised.value) == f"position 488 is outside hub 'demo-pool''s log (0..{DEMO_HEAD})"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2020-01-01T00:00Z", "is before hub 'demo-pool''s first event (2026-11-01T11:40:00Z, @1)"),
        ("2030-01-01T00:00Z", "is in the future (the log's clock says 2026-11-01T12:00:00Z)"),
        (f"@{DEMO_HEAD + 1}", f"position 488 is outside hub 'demo-pool''s log (@0..@{DEMO_HEAD})"),
    ],
    ids=["before", "future", "beyond"],
)
async def test_a_point_outside_the_log_is_refused_by_one_rule_naming_the_log(
    store: MemoryEventStore, demo: DemoResult, text: str, says: str
) -> None:
    with pytest.raises(OutsideLog) as raised:
        await state(store, None, DEMO_HUB, parse_point(text, "--at"))

    assert says in str(raised.value)
    assert isinstance(raised.value, ValueError)


async def test_a_point_inside_the_log_after_its_last_event_is_the_state_at_its_end(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    shown = await state(store, None, DEMO_HUB, parse_point("2026-11-01T12:00:00Z"))

    assert shown.view.position == DEMO_HEAD


async def test_a_snapshot_shortens_the_replay_and_changes_nothing_else(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    storage = MemoryReadModelStore()
    await rebuild(store, storage, HubProjection(), DEMO_HUB, batch_size=50, snapshot_every=100)
    point = parse_point(f"@{UNHEALTHY_AT}")

    replayed = await view_at(store, None, DEMO_HUB, point)
    from_snapshot = await view_at(store, storage, DEMO_HUB, point)

    assert (replayed.replayed, from_snapshot.replayed) == (179, 79)  # snapshot at 100
    assert as_json(from_snapshot) == {**as_json(replayed), "replayed": from_snapshot.replayed}


async def test_the_text_view_shows_summary_instances_and_lease_holders(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    view = await view_at(store, None, DEMO_HUB, parse_point(f"@{UNHEALTHY_AT}"))

    text = lines(view)

    assert text[:8] == [
        (
            "hub demo-pool at position 179 (2026-11-01 11:48:00.000 UTC; "
            "179 events replayed on top of the nearest snapshot)"
        ),
        "  3 registered, 2 available (67%), 0 removed; by status: healthy 2, unhealthy 1",
        "  load: cpu 84.6%, memory 49.2%, 8 connections; errors 6/1307 (0.46%); leases 11/12",
        "",
        "instance  status     failures  cpu %  resp ms  conns  registered  config",
        "ollama-1  healthy           0   83.1  1,304.7      4  yes         OllamaConfig port=11434",
        "ollama-2  unhealthy         3   88.0  1,023.1      4  yes         OllamaConfig port=11435",
        "ollama-3  healthy           0   86.1  1,446.2      4  yes         OllamaConfig port=11436",
    ]
    assert text[9].split() == ["lease", "holder", "token", "expires", "(UTC)"]
    assert len(text) == 10 + 11  # a row per live lease holder


async def test_the_text_view_before_the_first_event_gives_no_time_zone(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    view = await view_at(store, None, DEMO_HUB, parse_point("@0"))

    assert lines(view)[0] == (
        "hub demo-pool at position 0 (before its first event; "
        "0 events replayed on top of the nearest snapshot)"
    )


async def test_the_json_view_has_every_field_and_the_live_lease_holders(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    view = await view_at(store, None, DEMO_HUB, parse_point(f"@{UNHEALTHY_AT}"))

    data = as_json(view)

    assert {"hub_id", "position", "as_of", "hub", "instances", "locks", "summary"} <= set(data)
    assert data["as_of"] == "2026-11-01T11:48:00Z"
    assert data["instances"]["ollama-2"]["status"] == "unhealthy"
    holders = data["lease_holders"]
    assert sorted(holders) == ["ollama-1", "ollama-2", "ollama-3"]
    assert sum(len(h) for h in holders.values()) == 11
    assert set(holders["ollama-2"][0]) == {"owner", "token", "ttl_s", "expires_at", "granted_at"}


async def test_the_json_view_gives_every_rate_as_a_fraction(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    view = await view_at(store, None, DEMO_HUB, parse_point(f"@{UNHEALTHY_AT}"))

    summary = as_json(view)["summary"]

    assert summary["availability"] == pytest.approx(2 / 3)
    assert summary["error_rate"] == pytest.approx(summary["error_count"] / summary["request_count"])
    assert summary["lease_utilisation"] == pytest.approx(11 / 12)


async def test_a_lease_past_its_expiry_has_no_holder_though_no_expiry_was_logged(
    store: MemoryEventStore, clock: Clock
) -> None:
    script = Script(store)
    await script.healthy("a")  # 1-3
    await script.grant("a", "node-a", ttl=30.0)  # 4: expires T0 + 30 s
    clock.at(60)
    await script.check("a", True)  # 5

    held = await view_at(store, None, HUB, parse_point("@4"))
    lapsed = await view_at(store, None, HUB, parse_point("@5"))

    assert as_json(held)["lease_holders"]["a"][0]["owner"] == "node-a"
    assert as_json(lapsed)["lease_holders"] == {"a": []}
    assert lines(lapsed)[-2:] == ["", "lease  holder  token  expires (UTC)"]
