"""The hublog command on a real SQLite file: demo, events, hubs, db, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli import main
from adapters.sql import migrations


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_demo_records_an_incident(url: str) -> None:
    code, out = run("--url", url, "demo", "--minutes", "20")

    assert code == 0, out
    assert "in hub 'demo-pool'" in out
    assert "to_status=degraded" in out and "to_status=unhealthy" in out
    assert "RecoveryFailed" in out and "InstanceRecovered" in out


def test_demo_twice_uses_a_new_hub(url: str) -> None:
    run("--url", url, "demo", "--minutes", "15")
    code, out = run("--url", url, "demo", "--minutes", "15")

    assert code == 0 and "in hub 'demo-pool-2'" in out
    _, hubs = run("--url", url, "hubs")
    assert [line.split("\t")[0] for line in hubs.splitlines()] == ["demo-pool", "demo-pool-2"]


def test_events_filters_by_stream_and_type_as_json(url: str) -> None:
    run("--url", url, "demo", "--minutes", "20")

    code, out = run(
        "--url",
        url,
        "events",
        "demo-pool",
        "--stream",
        "instance/ollama-2",
        "--type",
        "HealthChanged",
        "--json",
    )

    assert code == 0
    changes = [json.loads(line) for line in out.splitlines()]
    assert [(c["event"]["from_status"], c["event"]["to_status"]) for c in changes] == [
        ("unknown", "healthy"),
        ("healthy", "degraded"),
        ("degraded", "unhealthy"),
        ("unhealthy", "healthy"),
    ]
    positions = [c["position"] for c in changes]
    assert positions == sorted(positions)


def test_events_after_and_limit(url: str) -> None:
    run("--url", url, "demo", "--minutes", "10")

    _, out = run("--url", url, "events", "demo-pool", "--after", "3", "--limit", "4")

    assert [int(line.split()[0]) for line in out.splitlines()] == [4, 5, 6, 7]


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.db'}"

    head = migrations.head_revision()

    code, out = run("db", "upgrade", url)
    assert code == 0 and f"is at schema revision {head}" in out

    code, out = run("db", "current", url)
    assert code == 0 and f"database: {head}" in out


def test_errors_are_one_line_with_the_password_hidden() -> None:
    code, out = run("--url", "mysql://root:hunter2@db/x", "hubs")

    assert code == 1
    assert out.startswith("Error: unknown store URL scheme 'mysql'")
    assert "hunter2" not in out


def test_db_upgrade_refuses_a_non_sql_url() -> None:
    code, out = run("db", "upgrade", "memory://")

    assert code == 1 and "not an SQL database" in out
