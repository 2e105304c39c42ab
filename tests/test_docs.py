"""Documentation that cannot drift: README code runs, CI runs the README's command,
every CLI command has an example, and the import rule holds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from adapters.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_the_readme_python_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    examples = blocks("python")
    assert examples, "the README has no Python example"

    for code in examples:
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})  # noqa: S102 - our README

    assert (tmp_path / "quickstart.db").exists()


def test_ci_runs_the_readme_test_command() -> None:
    commands = [b.strip() for b in blocks("sh")]
    test_command = next(c for c in commands if "pytest" in c)

    ci = (ROOT / ".ci" / "run").read_text()

    assert test_command in ci.splitlines()
    assert "HUBLOG_REQUIRE_SERVICES=1" in ci


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix}{name} "))
    return found


@pytest.mark.parametrize(
    ("name", "command"), _commands(main), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_cli_command_is_documented_with_an_example(name: str, command: click.Command) -> None:
    if isinstance(command, click.Group):
        assert command.help, f"hublog {name} has no help"
        return
    assert command.help and "Example:" in command.help, f"hublog {name} has no example in its help"


def test_the_import_rule_holds() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command; lint_imports_command()",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout
