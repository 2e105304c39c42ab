"""A mistyped --url: a command that reads (or rebuilds) a log refuses a
SQLite file that is not there instead of creating an empty one and
reporting that all is well."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.adapters.cli.conftest import hublog
from tests.adapters.cli.test_errors import one_line_error

READERS = [
    ["hubs"],
    ["events"],
    ["state", "--at", "@1"],
    ["diff", "@1", "@2"],
    ["timeline", "--instance", "ollama-2"],
    ["metrics", "--instance", "ollama-2"],
    ["report", "-o", os.devnull],
    ["export", "-o", os.devnull],
    ["verify"],
    ["rebuild"],
    ["db", "current"],
]


@pytest.mark.parametrize("command", READERS, ids=lambda c: c[0] if c[0] != "db" else "db-current")
def test_a_read_command_refuses_a_missing_sqlite_file_and_creates_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'typo.db'}"

    message = one_line_error(hublog("--url", url, *command))

    assert "no SQLite database at" in message and "typo.db" in message
    assert list(tmp_path.iterdir()) == []


def test_import_still_creates_the_file_it_writes(tmp_path: Path, sqlite_demo: str) -> None:
    exported = tmp_path / "pool.jsonl"
    assert hublog("--url", sqlite_demo, "export", "-o", str(exported)).code == 0
    fresh = tmp_path / "fresh.db"

    result = hublog("--url", f"sqlite:///{fresh}", "import", str(exported))

    assert result.code == 0, result.err
    assert fresh.exists()
