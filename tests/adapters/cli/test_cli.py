"""Every reading command on SQLite, PostgreSQL and Redis: demo, hubs, events,
state, diff, timeline, metrics, rebuild, verify; --url before or after the
command name; the URL from the environment."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest

from adapters.cli import main
from adapters.sql import migrations
from tests.adapters.cli.conftest import hublog


def test_demo_records_an_incident(url: str) -> None:
    result = hublog("--url", url, "demo", "--minutes", "20")

    assert result.code == 0, result.out
    assert "in hub 'demo-pool'" in result.out
    assert "to_status=degraded" in result.out and "to_status=unhealthy" in result.out
    assert "RecoveryFailed" in result.out and "InstanceRecovered" in result.out


def test_hubs_lists_each_hub_with_its_head(demo_url: str) -> None:
    hublog("--url", demo_url, "demo", "--minutes", "10")

    listed = [json.loads(line) for line in hublog("hubs", "--url", demo_url, "--json").lines]

    assert [h["hub_id"] for h in listed] == ["demo-pool", "demo-pool-2"]
    assert all(h["head"] > 0 for h in listed)


def test_hubs_json_gives_the_last_event_time_in_iso_8601_with_z(sqlite_demo: str) -> None:
    [listed] = [json.loads(line) for line in hublog("hubs", "--url", sqlite_demo, "--json").lines]
    [event] = [
        json.loads(line)
        for line in hublog(
            "events", "--url", sqlite_demo, "--json", "--from-position", str(listed["head"])
        ).lines
    ]

    assert listed["last_recorded_at"] == event["recorded_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", listed["last_recorded_at"])


def test_url_works_before_and_after_the_command_name(demo_url: str) -> None:
    before = hublog("--url", demo_url, "events", "--hub", "demo-pool", "--limit", "3")
    after = hublog("events", "--hub", "demo-pool", "--limit", "3", "--url", demo_url)

    assert before.code == after.code == 0
    assert before.out == after.out and len(before.lines) == 4  # header + 3


def _leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _leaf_commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("command", _leaf_commands(main), ids=" ".join)
def test_url_and_debug_work_after_every_command_name(command: tuple[str, ...]) -> None:
    """Every command takes them after its name too (the group takes them before)."""
    result = hublog(*command, "--url", "mysql://nowhere/x", "--debug", "--help")

    assert result.code == 0, result.err


def test_hub_works_before_the_command_name(demo_url: str) -> None:
    before = hublog("--url", demo_url, "--hub", "demo-pool", "events", "--limit", "3")
    after = hublog("--url", demo_url, "events", "--hub", "demo-pool", "--limit", "3")

    assert before.code == after.code == 0, before.err
    assert before.out == after.out


def test_db_current_takes_url_and_debug_as_options(sqlite_demo: str) -> None:
    result = hublog("db", "current", "--url", sqlite_demo, "--debug")

    assert result.code == 0, result.err
    assert result.out.startswith("database: ")


def test_version_names_hublog_and_its_version() -> None:
    from importlib.metadata import version

    result = hublog("--version")

    assert result.code == 0 and result.out == f"hublog {version('hublog')}\n"


def test_type_takes_comma_lists_in_any_case(sqlite_demo: str) -> None:
    listed = hublog(
        "events", "--url", sqlite_demo, "--type", "healthchanged,RECOVERYFAILED", "--json"
    )

    assert listed.code == 0, listed.err
    assert {json.loads(line)["type"] for line in listed.lines} == {
        "HealthChanged",
        "RecoveryFailed",
    }


def test_state_without_at_is_the_hub_now(sqlite_demo: str) -> None:
    [listed] = [json.loads(line) for line in hublog("hubs", "--url", sqlite_demo, "--json").lines]

    now = json.loads(hublog("state", "--url", sqlite_demo, "--json").out)

    assert now["position"] == listed["head"]


def test_events_table_is_aligned(demo_url: str) -> None:
    result = hublog("events", "demo-pool", "--limit", "30", "--url", demo_url)

    header, *rows = result.lines
    assert header.split()[:2] == ["position", "recorded_at"]
    type_column = header.index("type")
    assert all(row[type_column - 2 : type_column] == "  " for row in rows)
    assert "\x1b[" not in result.out  # no colours off a terminal


def test_events_filters_by_instance_and_type_as_json(demo_url: str) -> None:
    result = hublog(
        "events",
        "--url",
        demo_url,
        "--hub",
        "demo-pool",
        "--instance",
        "ollama-2",
        "--type",
        "HealthChanged",
        "--type",
        "RecoveryFailed",
        "--json",
    )

    events = [json.loads(line) for line in result.lines]
    assert {e["stream"] for e in events} == {"instance/ollama-2"}
    assert [e["type"] for e in events].count("RecoveryFailed") == 1
    changes = [
        (e["event"]["from_status"], e["event"]["to_status"])
        for e in events
        if e["type"] == "HealthChanged"
    ]
    assert changes[1:] == [
        ("healthy", "degraded"),
        ("degraded", "unhealthy"),
        ("unhealthy", "healthy"),
    ]
    assert set(events[0]) >= {
        "hub_id",
        "stream",
        "version",
        "position",
        "event_id",
        "type",
        "recorded_at",
        "correlation_id",
        "causation_id",
        "event",
    }


def test_events_positions_and_relative_times(demo_url: str) -> None:
    by_position = hublog(
        "events",
        "-u",
        demo_url,
        "--hub",
        "demo-pool",
        "--from-position",
        "4",
        "--to-position",
        "7",
        "--json",
    )
    since_at = hublog(
        "events", "-u", demo_url, "--hub", "demo-pool", "--since", "@4", "--until", "@7", "--json"
    )
    recent = hublog("events", "-u", demo_url, "--hub", "demo-pool", "--since", "1h", "--json")

    assert [json.loads(x)["position"] for x in by_position.lines] == [4, 5, 6, 7]
    assert by_position.out == since_at.out
    assert len(recent.lines) > 100  # the demo was written just now


def test_events_since_an_iso_time_and_stream(demo_url: str) -> None:
    everything = [json.loads(x) for x in hublog("events", "-u", demo_url, "--json").lines]
    middle = everything[len(everything) // 2]

    result = hublog(
        "events", "-u", demo_url, "--since", middle["recorded_at"], "--stream", "hub", "--json"
    )

    found = [json.loads(x) for x in result.lines]
    expected = [  # the demo's two processes write advice, stats and stops there
        e["event_id"]
        for e in everything
        if e["stream"] == "hub" and e["recorded_at"] >= middle["recorded_at"]
    ]
    assert [e["event_id"] for e in found] == expected
    assert [e["type"] for e in found][-4:].count("HubStopped") == 2


def test_events_without_a_hub_covers_every_hub(demo_url: str) -> None:
    hublog("--url", demo_url, "demo", "--minutes", "5")

    result = hublog("events", "-u", demo_url, "--type", "HubStarted", "--json")

    started = sorted(json.loads(x)["hub_id"] for x in result.lines)  # two processes each
    assert started == ["demo-pool", "demo-pool", "demo-pool-2", "demo-pool-2"]


def test_state_at_a_position_and_at_a_time(demo_url: str) -> None:
    unhealthy = next(  # the demo's failing server, as it went down
        e
        for e in map(
            json.loads,
            hublog("events", "-u", demo_url, "--type", "HealthChanged", "--json").lines,
        )
        if e["stream"] == "instance/ollama-2" and e["event"]["to_status"] == "unhealthy"
    )
    at = f"@{unhealthy['position']}"

    text = hublog("state", "-u", demo_url, "--hub", "demo-pool", "--at", at)
    data = json.loads(
        hublog("state", "-u", demo_url, "--hub", "demo-pool", "--at", at, "--json").out
    )
    now = json.loads(hublog("state", "-u", demo_url, "--at", "0s", "--json").out)

    assert text.code == 0 and "ollama-2  unhealthy" in text.out
    assert data["position"] == unhealthy["position"]
    assert data["instances"]["ollama-2"]["status"] == "unhealthy"
    assert {"summary", "locks", "lease_holders", "hub"} <= set(data)
    assert now["instances"]["ollama-2"]["status"] == "healthy"


def test_diff_names_the_changes_and_their_events(demo_url: str) -> None:
    changes = [
        json.loads(x)
        for x in hublog(
            "events", "-u", demo_url, "--instance", "ollama-2", "--type", "HealthChanged", "--json"
        ).lines
    ]
    a, b = changes[1]["position"] - 1, changes[2]["position"]

    result = hublog("diff", "-u", demo_url, "--hub", "demo-pool", f"@{a}", f"@{b}", "--json")

    found = [json.loads(x) for x in result.lines]
    status = next(c for c in found if c["kind"] == "status")
    assert (status["subject"], status["before"], status["after"]) == (
        "ollama-2",
        "healthy",
        "unhealthy",
    )
    assert [e["type"] for e in status["events"]] == ["HealthChanged", "HealthChanged"]
    assert (
        "status      ollama-2: healthy -> unhealthy"
        in hublog("diff", "-u", demo_url, f"@{a}", f"@{b}").out
    )


def test_timeline_shows_transitions_with_durations(demo_url: str) -> None:
    result = hublog("timeline", "-u", demo_url, "--instance", "ollama-2")
    entries = [
        json.loads(x)
        for x in hublog("timeline", "-u", demo_url, "--instance", "ollama-2", "--json").lines
    ]

    assert result.code == 0 and "recovery failed" in result.out
    kinds = [e["kind"] for e in entries]
    assert kinds[0] == "registered" and "recovered" in kinds and "lease granted" in kinds
    degraded = next(e for e in entries if "-> degraded" in e["detail"])
    assert round(degraded["seconds"]) == 30  # one check interval of the simulation


def test_metrics_table_per_resolution(demo_url: str) -> None:
    raw = hublog("metrics", "-u", demo_url, "--instance", "ollama-1", "--json")
    minutes = hublog(
        "metrics", "-u", demo_url, "--instance", "ollama-1", "--resolution", "1m", "--json"
    )
    table = hublog("metrics", "-u", demo_url, "--instance", "ollama-1", "--resolution", "1h")

    samples = [json.loads(x) for x in raw.lines]
    assert len(samples) == 40 and {"avg_response_time_ms", "error_rate", "cpu_percent"} <= set(
        samples[0]
    )
    assert sum(json.loads(x)["samples"] for x in minutes.lines) == 40
    assert table.code == 0 and "resp ms" in table.lines[1]


def test_rebuild_then_verify_with_projections(demo_url: str) -> None:
    rebuilt = hublog("rebuild", "-u", demo_url, "--hub", "demo-pool")
    verified = hublog("verify", "-u", demo_url, "--projections", "--json")

    assert rebuilt.code == 0
    assert "demo-pool metrics:" in rebuilt.err and "events/s" in rebuilt.err
    assert verified.code == 0, verified.out + verified.err
    assert verified.out == ""  # no findings


def test_verify_says_when_read_models_are_missing(demo_url: str) -> None:
    result = hublog("verify", "-u", demo_url, "--projections")

    assert result.code == 0
    assert "warning hub demo-pool: no stored read model 'hub'" in result.out


def test_the_url_comes_from_gleitzeit_then_hublog_variables(sqlite_demo: str) -> None:
    gleitzeit = {
        "GLEITZEIT_HUB_PERSISTENCE": "sql",
        "GLEITZEIT_SQL_URL": sqlite_demo,
        "HUBLOG_URL": "memory://",
    }
    hublog_only = {"HUBLOG_URL": sqlite_demo}

    assert "demo-pool" in hublog("hubs", env=gleitzeit).out
    assert "demo-pool" in hublog("hubs", env=hublog_only).out
    unset = hublog("hubs", env={"GLEITZEIT_HUB_PERSISTENCE": "redis", "GLEITZEIT_REDIS_URL": ""})
    assert (
        unset.code == 1 and "needs GLEITZEIT_REDIS_URL (the store URL); it is not set" in unset.err
    )


def test_only_gleitzeit_sql_url_set_is_the_log_read(sqlite_demo: str) -> None:
    only = hublog("hubs", env={"GLEITZEIT_SQL_URL": sqlite_demo, "HUBLOG_URL": "memory://"})

    assert only.code == 0 and "demo-pool" in only.out


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    head = migrations.head_revision()

    upgraded = hublog("db", "upgrade", url)
    current = hublog("--url", url, "db", "current")

    assert upgraded.code == 0 and f"is at schema revision {head}" in upgraded.out
    assert current.code == 0 and f"database: {head}" in current.out
