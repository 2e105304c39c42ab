"""``hublog spill verify|drain``: drain never destroys a file it did not
write, and agrees with verify about damage."""

from __future__ import annotations

from pathlib import Path

from tests.adapters.cli.conftest import hublog
from tests.eventstore.recorder.conftest import HUB
from tests.eventstore.recorder.test_spill import write_spill


def test_the_cli_verifies_and_drains_up_to_a_torn_tail_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "d.spill"
    write_spill(path, 3)
    with path.open("ab") as f:
        f.write(b"\x10\x00\x00\x00torn")
    torn_at = path.stat().st_size - 8
    url = f"sqlite:///{tmp_path / 'log.db'}"

    verify = hublog("spill", "verify", str(path))
    assert verify.code == 1
    assert "3 records, 9 events" in verify.out
    assert f"damage at offset {torn_at}" in verify.err

    drained = hublog("spill", "drain", str(path), "--url", url)
    assert drained.code == 1, drained.out + drained.err  # as verify: the file was damaged
    assert "drained 9 events in 3 records" in drained.out
    assert (
        f"damage at offset {torn_at}" in drained.err and f"d.spill.damaged-{torn_at}" in drained.err
    )
    assert (tmp_path / f"d.spill.damaged-{torn_at}").read_bytes() == b"\x10\x00\x00\x00torn"
    again = hublog("spill", "verify", str(path))
    assert again.code == 0 and "0 records" in again.out
    events = hublog("events", "--url", url, "--hub", HUB, "--json")
    assert len(events.lines) == 9


def test_drain_refuses_a_file_that_is_not_a_spill_file_and_leaves_it_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wrong.jsonl"
    content = b'{"hub_id": "demo-pool", "position": 1, "type": "HubStarted"}\n' * 50
    path.write_bytes(content)
    url = f"sqlite:///{tmp_path / 'x.db'}"

    result = hublog("spill", "drain", str(path), "--url", url)

    assert result.code == 1, result.out + result.err
    assert "wrong.jsonl is not a spill file" in result.err
    assert "drained" not in result.out
    assert path.read_bytes() == content
    assert not list(tmp_path.glob("wrong.jsonl.damaged-*"))
