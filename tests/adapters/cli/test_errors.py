"""Every error an on-call engineer can make or meet is one line naming the
problem and exit status 1, never a traceback (``--debug`` shows one)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.adapters.cli.conftest import Result, hublog


def one_line_error(result: Result) -> str:
    assert result.code == 1, result.out + result.err
    assert result.exception is None
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.err
    assert "Traceback" not in result.err
    return lines[0]


def test_an_unknown_hub_lists_the_hubs_there_are(demo_url: str) -> None:
    for command in (
        ["events"],
        ["state", "--at", "@1"],
        ["timeline", "--instance", "x"],
        ["verify"],
        ["report", "-o", os.devnull],
    ):
        message = one_line_error(hublog(*command, "--hub", "nosuchhub", "--url", demo_url))
        assert "no hub 'nosuchhub'" in message and "(hubs there: demo-pool)" in message
    assert "no hub 'nosuchhub'" in one_line_error(hublog("events", "nosuchhub", "-u", demo_url))


@pytest.mark.external_service
@pytest.mark.parametrize(
    "url", ["postgresql://hublog:s3cret@127.0.0.1:1/x", "redis://:s3cret@127.0.0.1:1/0"]
)
def test_an_unreachable_backend_is_named_with_the_password_hidden(url: str) -> None:
    message = one_line_error(hublog("hubs", "--url", url))

    assert "127.0.0.1:1" in message and "s3cret" not in message


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "not-a-database-file"
    path.write_text("hello, I am a text file\n" * 100)

    message = one_line_error(hublog("--url", f"sqlite:///{path}", "hubs"))

    assert "not-a-database-file" in message and "file is not a database" in message


def test_unknown_url_scheme_hides_the_password() -> None:
    message = one_line_error(hublog("--url", "mysql://root:hunter2@db/x", "hubs"))

    assert message.startswith("Error: unknown store URL scheme 'mysql'")
    assert "hunter2" not in message


def test_empty_ranges(demo_url: str) -> None:
    reversed_window = hublog("events", "-u", demo_url, "--since", "@400", "--until", "@100")
    reversed_positions = hublog(
        "events", "-u", demo_url, "--from-position", "9", "--to-position", "3"
    )
    reversed_diff = hublog("diff", "-u", demo_url, "@300", "@100")
    future = hublog("report", "-u", demo_url, "--since", "@100000", "-o", os.devnull)

    assert "empty range in hub 'demo-pool'" in one_line_error(reversed_window)
    assert "empty range" in one_line_error(reversed_positions)
    assert "give the earlier point first" in one_line_error(reversed_diff)
    assert "empty range" in one_line_error(future)


def test_a_position_beyond_the_log(demo_url: str) -> None:
    assert "outside hub 'demo-pool'" in one_line_error(
        hublog("state", "-u", demo_url, "--at", "@999999")
    )


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["state", "--at", "2020-01-01T00:00Z"], "is before hub 'demo-pool''s first event"),
        (["state", "--at", "2099-01-01T00:00Z"], "is in the future"),
        (["state", "--at", "@99999"], "position 99999 is outside hub 'demo-pool''s log"),
        (["diff", "2020-01-01T00:00Z", "@5"], "is before hub 'demo-pool''s first event"),
        (["diff", "@5", "2099-01-01T00:00Z"], "is in the future"),
    ],
)
def test_a_point_outside_the_log_is_refused_by_one_rule(
    sqlite_demo: str, command: list[str], says: str
) -> None:
    assert says in one_line_error(hublog(*command, "-u", sqlite_demo))


@pytest.mark.parametrize("text", ["yesterday", "12:00 tomorrow", "@-3", "15 minutes"])
def test_a_malformed_time(sqlite_demo: str, text: str) -> None:
    message = one_line_error(hublog("events", "-u", sqlite_demo, "--since", text))

    assert f"malformed --since {text!r}" in message


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["--type", "HealthChange"],
            "unknown event type(s) HealthChange (did you mean HealthChanged?); known:",
        ),
        (["--stream", "instance/{x}"], "bad --stream"),
        (["--limit", "0"], "--limit must be at least 1"),
        (["--from-position", "0"], "--from-position must be a position >= 1"),
    ],
)
def test_a_bad_filter(sqlite_demo: str, args: list[str], says: str) -> None:
    assert says in one_line_error(hublog("events", "-u", sqlite_demo, *args))


@pytest.mark.parametrize(
    "command",
    [
        ["metrics"],
        ["timeline"],
        ["events"],
        ["events", "--hub", "demo-pool"],
        ["export", "-o", "-"],
    ],
    ids=["metrics", "timeline", "events", "events-hub", "export"],
)
def test_an_unknown_instance_lists_the_instances(sqlite_demo: str, command: list[str]) -> None:
    message = one_line_error(hublog(*command, "-u", sqlite_demo, "--instance", "ollama-9"))

    assert "no instance 'ollama-9'" in message and "ollama-1, ollama-2, ollama-3" in message


def test_an_unknown_projection(sqlite_demo: str) -> None:
    assert "unknown projection(s) locks" in one_line_error(
        hublog("rebuild", "-u", sqlite_demo, "--projection", "locks")
    )


def test_a_command_that_needs_one_hub_asks(sqlite_demo: str) -> None:
    hublog("-u", sqlite_demo, "demo", "--minutes", "5")

    message = one_line_error(hublog("report", "-u", sqlite_demo, "-o", os.devnull))

    assert "holds 2 hubs (demo-pool, demo-pool-2): say which with --hub" in message


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"\x00junk" * 1000)

    result = hublog("--debug", "--url", f"sqlite:///{path}", "hubs")

    assert result.code == 1 and result.exception is not None


def test_no_traceback_from_the_installed_command(tmp_path: Path) -> None:
    path = tmp_path / "not-a-database-file"
    path.write_text("plain text\n")
    command = Path(sys.executable).with_name("hublog")

    done = subprocess.run(
        [str(command), "--url", f"sqlite:///{path}", "hubs"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "file is not a database" in done.stderr
