"""A file a command cannot write is named in the error, never blamed on the
database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.adapters.cli.conftest import hublog
from tests.adapters.cli.test_errors import one_line_error


@pytest.mark.parametrize("command", ["export", "report"])
def test_an_output_file_in_a_missing_directory_is_named(
    sqlite_demo: str, tmp_path: Path, command: str
) -> None:
    target = tmp_path / "no-such-dir" / "out.file"

    message = one_line_error(
        hublog("--url", sqlite_demo, command, "--hub", "demo-pool", "-o", str(target))
    )

    assert f"cannot write {target}" in message and "No such file or directory" in message
    assert "sqlite" not in message


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("command", ["export", "report"])
def test_a_full_disk_is_named_with_the_file(sqlite_demo: str, command: str) -> None:
    message = one_line_error(
        hublog("--url", sqlite_demo, command, "--hub", "demo-pool", "-o", "/dev/full")
    )

    assert "cannot write /dev/full" in message and "No space left on device" in message
    assert "sqlite" not in message
