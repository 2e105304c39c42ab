"""SIGKILL at random moments while recording with a spill file and a
backend that keeps going away: on restart the spill file drains first, and
at the end nothing acknowledged is missing, nothing is doubled, the
lifecycle stream is in recording order, and a torn tail was reported.

Runs on every backend several processes share: a few kills by default (each
run costs a child's start-up, ~1.5 s), many in the long profile."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import anyio
import pytest

from adapters import open_store
from tests.backends import SHARED_BACKENDS, Backend
from tests.eventstore.recorder.conftest import HUB

ROOT = Path(__file__).resolve().parents[3]
KILLS = 2
"""Kills per backend by default: enough for a kill before and after the torn tail."""
LONG_KILLS = int(os.environ.get("HUBLOG_KILLS", "20"))
"""Kills per backend in the long profile (HUBLOG_LONG=1)."""


def child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.eventstore.recorder.recording_child", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def read_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line, f"the child exited with {process.wait(timeout=30)}"
    return line


@pytest.mark.parametrize(
    "kills", [KILLS, pytest.param(LONG_KILLS, marks=pytest.mark.long)], ids=["few", "many"]
)
@pytest.mark.parametrize("backend", SHARED_BACKENDS, ids=lambda b: b.id)
def test_sigkill_loses_nothing_acknowledged(
    backend: Backend, kills: int, make_url: Callable[[str], str], tmp_path: Path
) -> None:
    url, spill, acked = make_url(backend.kind), tmp_path / "spill", tmp_path / "acked"
    rng = random.Random(os.getpid())
    found = []
    for run in range(kills):
        if run == kills // 2 and (spill / "recorder.spill").exists():
            with (spill / "recorder.spill").open("ab") as f:
                f.write(b"\x40\x00\x00\x00\x01\x02\x03torn")  # as if killed mid-write
        process = child(url, str(spill), str(acked), str(run * 100_000))
        found.append(read_line(process))
        assert read_line(process) == "READY"
        time.sleep(rng.uniform(0.1, 0.5))  # a random moment of its recording
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
