"""Documentation that cannot drift: the code in README.md and docs/ runs, CI
runs the README's command, every CLI command has an example."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

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


def _doc_examples(name: str) -> list[str]:
    doc = ROOT / "docs" / name
    return re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.DOTALL)


def test_the_projections_doc_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    examples = _doc_examples("projections.md")
    assert examples, "docs/projections.md has no Python example"

    for code in examples:
        exec(compile(code, "docs/projections.md", "exec"), {"__name__": "doc"})  # noqa: S102

    assert (tmp_path / "projections-example.db").exists()


@pytest.mark.external_service
def test_the_redis_doc_example_runs(make_url: Callable[[str], str]) -> None:
    redis_url = make_url("redis")
    [example] = _doc_examples("redis.md")
    prefix = dict(parse_qsl(urlsplit(redis_url).query))["key_prefix"]
    assert "key_prefix=example" in example

    code = example.replace("key_prefix=example", f"key_prefix={prefix}")  # keys deleted after
    exec(compile(code, "docs/redis.md", "exec"), {"__name__": "docs"})  # noqa: S102 - our own doc


def test_the_readme_documents_every_command() -> None:
    section = README.split("## Replay and inspect", 1)[1].split("\n## ", 1)[0]

    for name, command in _commands(main):
        if not isinstance(command, click.Group):
            assert f"`hublog {name}" in section, f"README does not show hublog {name}"


def test_the_readme_test_command_installs_every_extra_the_suite_needs() -> None:
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    test = extras["optional-dependencies"]["test"]
    pulled = {
        name.strip()
        for requirement in test
        if requirement.replace(" ", "").startswith("hublog[")
        for name in requirement.split("[", 1)[1].rstrip("]").split(",")
    }
    test_command = next(c for c in (b.strip() for b in blocks("sh")) if "pytest" in c)
    ci = (ROOT / ".ci" / "run").read_text()

    # the real-Gleitzeit, restore and attach-outage tests; the benchmark's peer columns
    assert {"gleitzeit", "bench"} <= pulled
    # so CI installs nothing the README's command does not: a fresh clone runs what CI runs
    assert [line for line in ci.splitlines() if "pip install" in line] == [test_command]
