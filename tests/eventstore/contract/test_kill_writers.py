"""Writers SIGKILLed at random moments, mid-batch or not: every batch whose
append returned is in the log exactly once, no batch is ever partly
written, positions run 1..head in order.  (5 kills per backend here;
HUBLOG_LONG=1 makes it 50.)"""

from __future__ import annotations

import os
import random
import signal
import sys
from collections import Counter
from pathlib import Path

import anyio
import pytest
from anyio.streams.text import TextReceiveStream

from eventstore import EventStore
from tests.backends import SHARED_BACKENDS, backend_fixture

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[3]
HUB = "kill-writers"
KILLS = 50 if os.environ.get("HUBLOG_LONG", "") not in ("", "0") else 5


async def run_and_kill(url: str, name: str, rng: random.Random) -> set[str]:
    """Start a writer, let it run a random while, SIGKILL it; what it acknowledged."""
    process = await anyio.open_process(
        [sys.executable, "-m", "tests.eventstore.contract.kill_writer", url, HUB, name],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    acked: set[str] = set()
    assert process.stdout is not None
    lines = TextReceiveStream(process.stdout)
    buffer, kill_at = "", None
    async for chunk in lines:  # runs until the kill moment, a while after the first ACK
        buffer += chunk
        *done, buffer = buffer.split("\n")
        acked.update(line.split()[1] for line in done if line.startswith("ACK "))
        if acked and kill_at is None:
            kill_at = anyio.current_time() + rng.uniform(0.0, 0.4)
        if kill_at is not None and anyio.current_time() >= kill_at:
            break
    process.send_signal(signal.SIGKILL)
    await process.wait()
    await process.aclose()
    return acked


backend = backend_fixture(SHARED_BACKENDS)


async def test_killed_writers_lose_nothing_acknowledged_and_write_no_partial_batch(
    store_url: str, store: EventStore
) -> None:
    rng = random.Random(20261201)
    acknowledged: set[str] = set()
    with anyio.fail_after(180):
        for kill in range(KILLS):
            acknowledged |= await run_and_kill(store_url, f"w{kill}", rng)

    log = [e async for e in store.read_log(HUB)]
    assert [e.position for e in log] == list(range(1, len(log) + 1))
    sizes = Counter(e.correlation_id for e in log)
    for tag, count in sizes.items():  # every batch in the log is whole
        assert tag is not None and count == int(tag.rsplit(":", 1)[1]), tag
    assert acknowledged <= set(sizes)  # every acknowledged batch is there
    positions: dict[str, list[int]] = {}
    for event in log:
        positions.setdefault(str(event.correlation_id), []).append(event.position)
    for tag, where in positions.items():  # once, contiguous
        assert where == list(range(where[0], where[0] + len(where))), tag
    assert acknowledged, "no writer got an append acknowledged before it was killed"
