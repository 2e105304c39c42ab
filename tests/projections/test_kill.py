"""A runner killed with SIGKILL — inside a commit's transaction, or anywhere
— restarts from its checkpoint, and its read models equal a fresh rebuild:
no event applied twice, none skipped."""

from __future__ import annotations

import os
import random
import signal
import sys
from datetime import timedelta
from pathlib import Path

import anyio
import pytest
from anyio.abc import Process
from anyio.streams.text import TextReceiveStream

from adapters.memory import MemoryReadModelStore
from eventstore import EventStore
from projections import HealthProjection, ReadModelStore, rebuild, standard_projections
from tests.backends import SHARED_BACKENDS, SQL_BACKENDS, backend_fixture
from tests.projections.script import HUB, Script, stored_rows

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]


backend = backend_fixture(SQL_BACKENDS)


async def a_day_of_a_small_pool(store: EventStore) -> int:
    script = Script(store)
    now = await store.now()
    await script.started()
    for n in range(5):
        iid = f"ollama-{n}"
        await script.healthy(iid)
        await script.grant(iid, "node-a", capacity=2)
        for i in range(20):
            await script.check(iid, i % 5 != 4)
        samples = [now - timedelta(minutes=60 - i) for i in range(60)]
        for i, at in enumerate(samples):
            await script.sample(iid, at, requests=10 * i, errors=i // 7, cpu_percent=float(i))
    return await store.head(HUB)


async def assert_each_model_equals_a_rebuild(
    store: EventStore, storage: ReadModelStore, head: int
) -> None:
    """Every standard model is at the head and holds what a fresh rebuild holds."""
    fresh = MemoryReadModelStore()
    for projection in standard_projections():
        assert (await storage.checkpoint(projection.name, HUB)).position == head  # type: ignore[union-attr]
        await rebuild(store, fresh, projection, HUB)
        assert await stored_rows(storage, projection) == await stored_rows(fresh, projection)


class Child:
    """One runner process and the lines it printed."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self.lines = TextReceiveStream(process.stdout)  # type: ignore[arg-type]
        self.buffer = ""

    async def line(self) -> str:
        while "\n" not in self.buffer:
            self.buffer += await self.lines.receive()
        line, self.buffer = self.buffer.split("\n", 1)
        return line

    async def until(self, prefix: str, count: int = 1) -> str:
        seen = 0
        while True:
            line = await self.line()
            if line.startswith(prefix):
                seen += 1
                if seen == count:
                    return line

    async def commits_or_done(self, count: int) -> bool:
        """Wait for ``count`` commits; False when the runner finished first
        (nothing was left to fold)."""
        seen = 0
        while seen < count:
            try:
                line = await self.line()
            except anyio.EndOfStream:
                return False
            if line.startswith("DONE"):
                return False
            seen += line.startswith("COMMITTED")
        return True

    async def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        assert await self.process.wait() == -signal.SIGKILL

    async def kill_if_running(self) -> None:
        """SIGKILL, unless it already finished by itself (exit 0)."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        assert await self.process.wait() in (-signal.SIGKILL, 0)


async def start(url: str, pause_at: int) -> Child:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await anyio.open_process(
        [sys.executable, "-m", "tests.projections.kill_child", url, HUB, str(pause_at)],
        cwd=ROOT,
        env=env,
    )
    return Child(process)


async def test_a_killed_runner_restarts_to_exactly_what_a_rebuild_gives(
    store_url: str, store: EventStore, storage: ReadModelStore
) -> None:
    head = await a_day_of_a_small_pool(store)
    with anyio.fail_after(120):
        # 1 and 2: killed inside a commit's transaction, rows written, not committed
        for pause_at in (3, 17):
            child = await start(store_url, pause_at)
            _, name, after, position = (await child.until("IN-COMMIT")).split()
            await child.kill()
            checkpoint = await storage.checkpoint(name, HUB)
            assert (checkpoint.position if checkpoint else 0) == int(after) < int(position)
        # 3: killed wherever it is after some commits: folding, reading, writing
        child = await start(store_url, 0)
        await child.until("COMMITTED", 9)
        await child.kill()
        # 4: left to finish
        child = await start(store_url, 0)
        await child.until("DONE")
        assert await child.process.wait() == 0

    await assert_each_model_equals_a_rebuild(store, storage, head)
    health = await stored_rows(storage, HealthProjection())
    assert len(health["checks"]) == 5 * 21  # the one check of healthy() and 20 more, each once


RANDOM_KILLS = 50 if os.environ.get("HUBLOG_LONG", "") not in ("", "0") else 5


@pytest.mark.parametrize("backend", SHARED_BACKENDS, ids=[b.id for b in SHARED_BACKENDS])
async def test_runners_killed_at_random_moments_restart_to_exactly_a_rebuild(
    store_url: str, store: EventStore, storage: ReadModelStore
) -> None:
    await a_day_of_a_small_pool(store)
    script = Script(store)
    rng = random.Random(1201)
    killed = 0
    with anyio.fail_after(60 + 10 * RANDOM_KILLS):
        for kill in range(RANDOM_KILLS):  # wherever it is: folding, reading, committing
            for i in range(40):  # more to fold, so every runner has work when it dies
                await script.check(f"ollama-{i % 5}", (kill + i) % 6 != 5)
            child = await start(store_url, 0)
            if await child.commits_or_done(rng.randint(1, 3)):
                await anyio.sleep(rng.uniform(0, 0.05))
                killed += 1
            await child.kill_if_running()
        child = await start(store_url, 0)
        await child.until("DONE")
        assert await child.process.wait() == 0

    assert killed >= RANDOM_KILLS // 2  # most runs really were cut short
    await assert_each_model_equals_a_rebuild(store, storage, await store.head(HUB))
