"""SIGKILL at random moments while recording with a spill file and a
backend that keeps going away: on restart the spill file drains first, and
at the end nothing acknowledged is missing, nothing is doubled, the
lifecycle stream is in recording order, and a torn tail was reported."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from uuid import UUID

import anyio
import pytest

from adapters import open_store
from tests.recorder.conftest import HUB

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("HUBLOG_KILLS", "5"))
"""Kills per backend; the long profile may set more."""


def child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.recorder.recording_child", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def read_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line, f"the child exited with {process.wait(timeout=30)}"
    return line


# Redis too in the long profile: the spill and its drain do not depend on the backend.
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("redis", marks=pytest.mark.long)])
def test_sigkill_loses_nothing_acknowledged(kind: str, make_url, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, spill, acked = make_url(kind), tmp_path / "spill", tmp_path / "acked"
    rng = random.Random(os.getpid())
    found = []
    for run in range(KILLS):
        if run == KILLS // 2 and (spill / "recorder.spill").exists():
            with (spill / "recorder.spill").open("ab") as f:
                f.write(b"\x40\x00\x00\x00\x01\x02\x03torn")  # as if killed mid-write
        process = child(url, str(spill), str(acked), str(run * 100_000))
        found.append(read_line(process))
        assert read_line(process) == "READY"
        time.sleep(rng.uniform(0.2, 0.9))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()  # type: ignore[union-attr]
    finish = child(url, str(spill), str(acked), "0", "finish")
    found.append(read_line(finish))
    assert read_line(finish) == "DONE" and finish.wait(timeout=30) == 0
    finish.stdout.close()  # type: ignore[union-attr]

    assert any(line.startswith("DAMAGE ") for line in found), found
    ids = [UUID(line) for line in acked.read_text().splitlines() if len(line) == 36]
    assert ids  # the runs did acknowledge events
    log = anyio.run(read_log, url)
    positions = {e.event_id: e for e in log}
    assert len(positions) == len(log)  # nothing doubled
    assert not [i for i in ids if i not in positions]  # nothing acknowledged missing
    checks = [e.event.latency_ms for e in log if e.stream == "instance/a"]
    assert checks == sorted(checks) and len(set(checks)) == len(checks)  # in order, once


async def read_log(url: str) -> list:  # type: ignore[type-arg]
    async with open_store(url) as store:
        return [e async for e in store.read_log(HUB)]
