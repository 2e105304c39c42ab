"""export, import and report: files that leave the log and come back."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from tests.adapters.cli.conftest import hublog
from tests.adapters.cli.test_errors import one_line_error


def export(url: str, path: Path, *args: str) -> bytes:
    result = hublog("export", "-u", url, "-o", str(path), *args)
    assert result.code == 0, result.err
    return path.read_bytes()


def test_export_then_import_into_sqlite_gives_the_identical_log(
    demo_url: str, tmp_path: Path, make_url: Callable[[str], str]
) -> None:
    first = export(demo_url, tmp_path / "a.jsonl")
    local = f"sqlite:///{tmp_path / 'copy.db'}"

    imported = hublog("import", str(tmp_path / "a.jsonl"), "-u", local)
    again = hublog("import", str(tmp_path / "a.jsonl"), "-u", local)
    second = export(local, tmp_path / "b.jsonl")

    assert imported.code == 0 and "events imported, 0 already there" in imported.out
    assert again.code == 0 and " 0 events imported" in again.out
    assert second == first  # byte for byte
    line = json.loads(first.splitlines()[0])
    assert {"position", "version", "event_id", "recorded_at", "data", "event"} <= set(line)
    assert hublog("verify", "-u", local).code == 0


def test_import_into_a_log_holding_part_of_it_is_idempotent(
    sqlite_demo: str, tmp_path: Path
) -> None:
    whole = export(sqlite_demo, tmp_path / "all.jsonl")
    export(sqlite_demo, tmp_path / "part.jsonl", "--to-position", "100")
    local = f"sqlite:///{tmp_path / 'copy.db'}"

    hublog("import", str(tmp_path / "part.jsonl"), "-u", local)
    rest = hublog("import", str(tmp_path / "all.jsonl"), "-u", local, "--json")

    report = json.loads(rest.out)
    assert report["skipped"] == {"demo-pool": 100}
    assert export(local, tmp_path / "again.jsonl") == whole


def test_unknown_and_corrupt_events_are_kept_byte_for_byte(
    sqlite_demo: str, tmp_path: Path
) -> None:
    path = Path(sqlite_demo.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as db:  # a newer writer's type, and a damaged payload
        db.execute("UPDATE hublog_events SET type = 'QuotaChanged' WHERE position = 5")
        db.execute("UPDATE hublog_events SET data = x'c1c1' WHERE position = 6")
    first = export(sqlite_demo, tmp_path / "a.jsonl")
    local = f"sqlite:///{tmp_path / 'copy.db'}"

    assert hublog("import", str(tmp_path / "a.jsonl"), "-u", local).code == 0

    lines = [json.loads(x) for x in first.splitlines()]
    assert (lines[4]["readable"], lines[5]["readable"]) == ("unknown", "corrupt")
    assert base64.b64decode(lines[5]["data"]) == b"\xc1\xc1"
    assert export(local, tmp_path / "b.jsonl") == first
    verify = hublog("verify", "-u", local)
    damaged = f"hub demo-pool position 6 stream {lines[5]['stream']}"  # where the demo put it
    assert verify.code == 1 and damaged in verify.out
    assert "unknown to this hublog" in verify.out


def test_a_damaged_line_is_named_and_nothing_is_imported(sqlite_demo: str, tmp_path: Path) -> None:
    lines = export(sqlite_demo, tmp_path / "a.jsonl").splitlines(keepends=True)
    lines[41] = lines[41][:50] + b"\n"
    (tmp_path / "damaged.jsonl").write_bytes(b"".join(lines))
    local = f"sqlite:///{tmp_path / 'copy.db'}"

    message = one_line_error(hublog("import", str(tmp_path / "damaged.jsonl"), "-u", local))

    assert "damaged.jsonl, line 42: not JSON" in message
    assert hublog("hubs", "-u", local, "--json").out == ""


def test_a_file_that_is_not_json_lines(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("# incident notes\nnothing here\n")
    (tmp_path / "object.jsonl").write_text('{"hello": "world"}\n')
    local = f"sqlite:///{tmp_path / 'copy.db'}"

    text = one_line_error(hublog("import", str(tmp_path / "notes.txt"), "-u", local))
    other = one_line_error(hublog("import", str(tmp_path / "object.jsonl"), "-u", local))
    missing = one_line_error(hublog("import", str(tmp_path / "nope.jsonl"), "-u", local))

    assert "notes.txt, line 1: not JSON" in text
    assert "object.jsonl, line 1: not a hublog event" in other
    assert "cannot read" in missing


def test_import_refuses_a_log_that_disagrees(sqlite_demo: str, tmp_path: Path) -> None:
    export(sqlite_demo, tmp_path / "a.jsonl")
    other = f"sqlite:///{tmp_path / 'other.db'}"
    hublog("-u", other, "demo", "--minutes", "5")  # another demo-pool, other events

    message = one_line_error(hublog("import", str(tmp_path / "a.jsonl"), "-u", other))

    assert "Import conflict" in message and "hub 'demo-pool'" in message
    assert "the logs disagree" in message


def test_export_filters(sqlite_demo: str, tmp_path: Path) -> None:
    data = export(
        sqlite_demo, tmp_path / "a.jsonl", "--instance", "ollama-2", "--type", "HealthChanged"
    )

    header, *decoded = [msgspec.json.decode(x) for x in data.splitlines()]
    assert header["readable"] == "header"
    assert header["event"]["filters"] == ["--instance ollama-2", "--type HealthChanged"]
    assert len(decoded) == 4 and {d["stream"] for d in decoded} == {"instance/ollama-2"}


@pytest.mark.parametrize("target", ["postgresql", "redis"])
@pytest.mark.external_service
def test_import_into_servers_keeps_everything(
    sqlite_demo: str, tmp_path: Path, make_url: Callable[[str], str], target: str
) -> None:
    first = export(sqlite_demo, tmp_path / "a.jsonl")
    url = make_url(target)

    assert hublog("import", str(tmp_path / "a.jsonl"), "-u", url).code == 0
    assert hublog("import", str(tmp_path / "a.jsonl"), "-u", url).code == 0
    assert export(url, tmp_path / "b.jsonl") == first


def test_report_is_one_self_contained_file(demo_url: str, tmp_path: Path) -> None:
    out = tmp_path / "incident.html"

    result = hublog("report", "-u", demo_url, "--hub", "demo-pool", "-o", str(out))

    html = out.read_text()
    assert result.code == 0 and "4 instances, 9 status changes" in result.out  # ollama-4 joined
    assert "<script" not in html and not re.search(r"\b(src|href)=|@import|url\(", html)
    assert "default-src 'none'" in html
    assert html.count('<svg class="chart"') == 4
    assert "hublog --url" in html and "timeline --hub demo-pool --instance ollama-2" in html
