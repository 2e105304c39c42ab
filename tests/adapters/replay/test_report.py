"""The incident report: what a window of a hub's log holds (metrics per
instance, status changes with how long they lasted, anomalies), rendered as
one self-contained HTML file that loads nothing from anywhere."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

import pytest

from adapters.memory import MemoryEventStore
from adapters.replay.demo import DemoResult
from adapters.replay.errors import EmptyRange
from adapters.replay.filters import Window
from adapters.replay.report import ReportData, collect
from adapters.replay.report_html import CSP, render
from adapters.replay.timeline import timeline
from adapters.replay.timeparse import parse_point
from tests.adapters.replay.logs import DAMAGED, DEMO_HEAD, DEMO_HUB, Clock, stored
from tests.projections.script import HUB, S, Script

pytestmark = pytest.mark.anyio

URL = "sqlite:///var/lib/hublog/my logs.db"  # shown in commands: needs quoting


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-01T{text}+00:00")


async def report_of(store: MemoryEventStore, hub: str = DEMO_HUB, **window: object) -> ReportData:
    return await collect(store, None, hub, Window(**window), URL)  # type: ignore[arg-type]


async def test_the_whole_demo_incident(store: MemoryEventStore, demo: DemoResult) -> None:
    data = await report_of(store)

    assert (data.after, data.last, data.start, data.end) == (0, DEMO_HEAD, at("11:40"), at("12:00"))
    assert data.counts == Counter([e.type async for e in store.read_log(DEMO_HUB)])
    assert list(data.instances) == ["ollama-1", "ollama-2", "ollama-3", "ollama-4"]
    assert [
        (c.position, c.instance_id, c.from_status, c.to_status, c.seconds) for c in data.changes
    ] == [
        (8, "ollama-1", "unknown", "healthy", 1200.0),  # to the end of the window
        (10, "ollama-2", "unknown", "healthy", 450.0),
        (12, "ollama-3", "unknown", "healthy", 270.0),
        (90, "ollama-3", "healthy", "degraded", 30.0),
        (98, "ollama-3", "degraded", "healthy", 900.0),
        (166, "ollama-2", "healthy", "degraded", 30.0),
        (179, "ollama-2", "degraded", "unhealthy", 60.0),
        (212, "ollama-2", "unhealthy", "healthy", 660.0),
        (289, "ollama-4", "unknown", "healthy", 480.0),
    ]
    assert data.anomalies == []
    assert (data.since_text, data.until_text) == ("2026-11-01T11:40:00Z", "2026-11-01T12:00:00Z")


async def test_a_window_holds_its_events_and_the_states_at_its_ends(
    store: MemoryEventStore, demo: DemoResult
) -> None:
    data = await report_of(store, from_position=150, to_position=220)

    assert (data.after, data.last) == (149, 220)
    assert (data.before.position, data.at_end.position) == (149, 220)
    assert sum(data.counts.values()) == 71
    assert [(c.position, c.to_status, c.seconds) for c in data.changes] == [
        (166, "degraded", 30.0),
        (179, "unhealthy", 60.0),
        (212, "healthy", 0.0),  # at the window's end: 11:49:00, as the window's last event
    ]
    assert (data.start, data.end) == (at("11:47:00"), at("11:49:00"))
    series = data.instances["ollama-2"]
    assert [m.kind for m in series.marks if not m.lane] == [
        "health-degraded",
        "health-unhealthy",
        "recovery-failed",
        "recovered",
        "health-healthy",
    ]
    # sampled while available: 11:47:00 and 11:47:30 (degraded), not while unhealthy
    assert [t for t, _ in series.cpu] == [at("11:47:00"), at("11:47:30")]
    assert len(series.response_ms) == len(series.error_rate) == len(series.connections) == 2


async def test_a_window_past_the_head_is_empty(store: MemoryEventStore, demo: DemoResult) -> None:
    with pytest.raises(EmptyRange) as raised:
        await report_of(store, since=parse_point("@1000"))

    assert str(raised.value) == "empty range in hub 'demo-pool': since @1000 holds no events"


async def test_anomalies_in_the_window_are_listed_in_log_order(
    store: MemoryEventStore, script: Script
) -> None:
    await script.started()  # 1
    await script.healthy("a")  # 2-4
    await script.release("a", "node-z", 9)  # 5: never granted
    await script.check("ghost", True)  # 6: never registered

    data = await report_of(store, HUB, since=parse_point("@5"))
    later = await report_of(store, HUB, since=parse_point("@6"))

    assert [(a.position, a.kind) for a in data.anomalies] == [
        (5, "lease_change_by_non_holder"),
        (6, "event_for_unregistered_instance"),  # by the hub projection
        (6, "event_for_unregistered_instance"),  # and by the health projection
    ]
    assert [a.position for a in later.anomalies] == [6, 6]


async def test_a_window_after_retention_holds_only_its_own_events(
    retained: MemoryEventStore,
) -> None:
    data = await report_of(retained, HUB, since=parse_point("@1"), until=parse_point("@23"))

    assert data.counts == {
        "HubStarted": 1,
        "InstanceRegistered": 1,
        "HealthChecked": 1,
        "HealthChanged": 2,
        "MetricsSampled": 6,
    }
    assert [c.position for c in data.changes] == [4, 23]


async def test_a_window_wholly_inside_a_hole_left_by_retention_is_empty(
    retained: MemoryEventStore,
) -> None:
    with pytest.raises(EmptyRange) as raised:
        await report_of(retained, HUB, from_position=6, to_position=10)  # 5-16 removed

    assert str(raised.value) == (
        "empty range in hub 'ollama-pool': from position 6 to position 10 holds no events"
    )


async def test_a_status_lasts_until_its_instance_left_as_the_timeline_says(
    store: MemoryEventStore, script: Script, clock: Clock
) -> None:
    await script.healthy("a")  # 1-3 at T0
    clock.at(90)
    await script.deregister("a")  # 4
    clock.at(300)
    await script.check("b", True)  # 5: the log goes on

    data = await report_of(store, HUB)
    entries, _ = await timeline(store, HUB, "a")

    assert [(c.position, c.seconds) for c in data.changes] == [(3, 90.0)]  # not to 300
    assert [(e.position, e.seconds) for e in entries if e.kind == "health"] == [(3, 90.0)]


@pytest.fixture
async def damaged_change(store: MemoryEventStore, script: Script) -> MemoryEventStore:
    """a healthy (1-3), then a HealthChanged whose bytes are damaged (4)."""
    await script.healthy("a")
    await store.import_events(HUB, [stored(4, "instance/a", 4, ("HealthChanged", DAMAGED[1]))])
    return store


async def test_a_damaged_event_does_not_stop_the_report(damaged_change: MemoryEventStore) -> None:
    data = await report_of(damaged_change, HUB)

    assert (data.counts["HealthChanged"], [c.position for c in data.changes]) == (2, [3])


# --- the HTML ----------------------------------------------------------------------


@pytest.fixture
async def html(store: MemoryEventStore, demo: DemoResult) -> str:
    return render(await report_of(store))


async def test_the_report_loads_nothing_from_anywhere(html: str) -> None:
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in html
    assert CSP == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    for tag in ("<script", "<link", "<img", "<iframe", "<object", "<embed", "@import", "url("):
        assert tag not in html, tag
    assert not re.search(r"\s(src|href|srcset)=", html)
    # the only URL is the SVG namespace, which is a name, never fetched
    assert set(re.findall(r"https?://[^\s\"'<>)]*", html)) == {"http://www.w3.org/2000/svg"}
    assert html.count("http://") == html.count('xmlns="http://www.w3.org/2000/svg"') == 4
    assert "https://" not in html


async def test_the_report_has_a_chart_per_instance_and_a_row_per_change(html: str) -> None:
    assert html.count('<svg class="chart"') == 4
    assert [re.sub("<.*?>", "", h) for h in re.findall(r"<h2>.*?</h2>", html)] == [
        "Summary",
        "Instance ollama-1",
        "Instance ollama-2",
        "Instance ollama-3",
        "Instance ollama-4",
        "Status changes",
        "Anomalies",
    ]
    assert html.count('<td class="status ') == 2 * 9
    assert "the projections found no anomaly in this window" in html
    assert "<li>events<b>487</b></li>" in html and "<li>status changes<b>9</b></li>" in html


async def test_each_figure_names_the_command_that_shows_the_same(html: str) -> None:
    quoted = "hublog --url &#x27;sqlite:///var/lib/hublog/my logs.db&#x27;"

    assert f"{quoted} timeline --hub demo-pool --instance ollama-2</pre>" in html
    assert f"{quoted} state --hub demo-pool --at @487</pre>" in html
    assert f"{quoted} diff --hub demo-pool @0 @487</pre>" in html
    assert (
        f"{quoted} events --hub demo-pool --type HealthChanged --from-position 1 "
        "--to-position 487</pre>"
    ) in html


async def test_text_from_the_log_cannot_add_markup(store: MemoryEventStore) -> None:
    script = Script(store, "pool<b>")
    await script.register("a")
    await script.check("a", True)
    await script.change("a", S.UNKNOWN, S.HEALTHY, "<script>alert(1)</script>")

    page = render(await report_of(store, "pool<b>"))

    assert "<script" not in page and "pool<b>" not in page
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page
    assert "<title>hublog incident report: pool&lt;b&gt;</title>" in page
