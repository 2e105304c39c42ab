"""A log that holds only part of a hub's history (an export from a later
position, or a filtered one, imported elsewhere) says so in one line, and
never reports what is missing as removals or corruption."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from eventstore.envelope import Envelope
from tests.adapters.cli.conftest import hublog

STARTS = "log starts at @300: earlier state unknown"


def head(url: str) -> int:
    return int(json.loads(hublog("--url", url, "hubs", "--json").out)["head"])


def imported(sqlite_demo: str, tmp_path: Path, *export_args: str) -> str:
    """The demo's log exported with ``export_args``, imported into a fresh file."""
    path = tmp_path / "part.jsonl"
    done = hublog(
        "--url", sqlite_demo, "export", "--hub", "demo-pool", *export_args, "-o", str(path)
    )
    assert done.code == 0, done.err
    url = f"sqlite:///{tmp_path / 'part.db'}"
    assert hublog("--url", url, "import", str(path)).code == 0
    return url


def test_a_log_imported_from_a_later_position_says_where_it_starts(
    sqlite_demo: str, tmp_path: Path
) -> None:
    url = imported(sqlite_demo, tmp_path, "--since", "@300")
    end = f"@{head(url)}"

    state = hublog("--url", url, "state", "--hub", "demo-pool", "--at", end)
    state_json = json.loads(hublog("--url", url, "state", "--at", end, "--json").out)
    verify = hublog("--url", url, "verify")
    diff = hublog("--url", url, "diff", "--hub", "demo-pool", "@400", end)
    report = hublog("--url", url, "report", "--hub", "demo-pool", "-o", str(tmp_path / "r.html"))

    assert state.code == 0 and STARTS in state.out
    # the three instances registered before @300 were healthy at the end
    assert all(f"ollama-{n}" in state.out for n in (1, 2, 3)), state.out
    assert state_json["log_starts_at"] == 300
    assert verify.code == 0, verify.out + verify.err
    assert STARTS in verify.out + verify.err and "error" not in verify.out
    assert diff.code == 0 and STARTS in diff.out
    assert report.code == 0 and f"positions 300..{end[1:]}" in report.out
    html = (tmp_path / "r.html").read_text()
    assert STARTS in html and f"positions 300–{end[1:]}" in html


def test_a_log_imported_from_a_filtered_export_keeps_its_filters(
    sqlite_demo: str, tmp_path: Path
) -> None:
    url = imported(sqlite_demo, tmp_path, "--type", "HealthChanged")

    verify = hublog("--url", url, "verify")
    state = hublog("--url", url, "state", "--at", f"@{head(url)}")

    assert verify.code == 0, verify.out + verify.err
    assert "error" not in verify.out
    assert "--type HealthChanged" in verify.out + verify.err
    assert "--type HealthChanged" in state.out


def test_a_partial_export_says_what_it_holds_in_a_header_line_older_imports_skip(
    sqlite_demo: str, tmp_path: Path
) -> None:
    path = tmp_path / "part.jsonl"
    hublog(
        "--url", sqlite_demo, "export", "--since", "@300", "--type", "LockGranted", "-o", str(path)
    )

    header = json.loads(path.read_text().splitlines()[0])

    assert header["readable"] == "header"
    assert header["event"]["first_position"] == 300
    assert header["event"]["filters"] == ["--type LockGranted"]
    older = msgspec.json.decode(path.read_text().splitlines()[0], type=OlderLine)
    assert older.envelope_error  # so hublog 0.1.0 counts it as unreadable and imports the rest


def test_a_whole_export_has_no_header_line(sqlite_demo: str, tmp_path: Path) -> None:
    path = tmp_path / "all.jsonl"
    hublog("--url", sqlite_demo, "export", "-o", str(path))

    first = json.loads(path.read_text().splitlines()[0])

    assert first["position"] == 1 and first["readable"] == "ok"


class OlderLine(Envelope, frozen=True, kw_only=True):
    """An export line as hublog 0.1.0's import decodes it (adapters/replay/jsonl.py);
    it imports only lines whose ``envelope_error`` is None."""

    data: bytes
    readable: str
    event: Any
    envelope_error: str | None = None
