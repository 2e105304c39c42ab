"""What reaches the screen or the pipe: nothing is cut when piped or with
--no-trunc; on a terminal lines fit its width (COLUMNS); NO_COLOR is honoured."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from adapters.cli import common, main
from tests.adapters.cli.conftest import hublog

LISTINGS = [
    ["events", "--hub", "demo-pool"],
    ["timeline", "--hub", "demo-pool", "--instance", "ollama-2"],
    ["diff", "--hub", "demo-pool", "@1", "@300"],
]


@pytest.mark.parametrize("command", LISTINGS, ids=lambda c: c[0])
def test_piped_output_is_never_cut(sqlite_demo: str, command: list[str]) -> None:
    result = hublog(*command, "--url", sqlite_demo, env={"COLUMNS": "80"})

    assert result.code == 0, result.err
    assert "…" not in result.out
    assert max(len(line) for line in result.lines) > 100


@pytest.mark.parametrize("command", LISTINGS, ids=lambda c: c[0])
def test_on_a_terminal_lines_fit_columns_and_no_trunc_keeps_them_whole(
    sqlite_demo: str, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "on_terminal", lambda: True)

    cut = hublog(*command, "--url", sqlite_demo, env={"COLUMNS": "90"})
    whole = hublog(*command, "--url", sqlite_demo, "--no-trunc", env={"COLUMNS": "90"})

    assert cut.code == whole.code == 0, cut.err + whole.err
    assert max(len(line) for line in cut.lines) <= 90 and "…" in cut.out
    assert "…" not in whole.out and max(len(line) for line in whole.lines) > 100


def test_no_color_turns_colours_off(sqlite_demo: str) -> None:
    runner = CliRunner()
    args = ["events", "--hub", "demo-pool", "--limit", "20", "--url", sqlite_demo]

    coloured = runner.invoke(main, args, color=True)
    plain = runner.invoke(main, args, color=True, env={"NO_COLOR": "1"})

    assert "\x1b[" in coloured.stdout
    assert "\x1b[" not in plain.stdout and plain.stdout.splitlines()[0].startswith("position")
