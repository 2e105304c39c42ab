"""Many writers, one hub, one reader following: every event seen once, positions 1..N.

8 writer tasks in this process, and on backends shared between processes 4
writer processes too, append to the same hub (own streams and one shared
stream) while a reader follows ``read_log``.  A reader that has seen position
p must never later find an event at or below p.
"""

from __future__ import annotations

import sys
from pathlib import Path
from uuid import UUID

import anyio
import pytest

from eventstore import EventStore
from tests.backends import Backend
from tests.eventstore.contract.factories import checks

pytestmark = pytest.mark.anyio

HUB = "shared-pool"
TASKS, TASK_BATCHES = 8, 20
PROCESSES, PROCESS_BATCHES = 4, 20
ROOT = Path(__file__).resolve().parents[3]


def batch_size(i: int) -> int:
    return 1 + i % 3


async def follow(store: EventStore, total: int, seen: list[tuple[int, UUID]]) -> None:
    """Read the log as it grows; fail on any position that is not last + 1."""
    last = 0
    while len(seen) < total:
        async for event in store.read_log(HUB, after=last):
            assert event.position == last + 1, f"after {last} came {event.position}"
            seen.append((event.position, event.event_id))
            last = event.position
        await anyio.sleep(0.005)


async def task_writer(store: EventStore, name: str, written: list[UUID]) -> None:
    for i in range(TASK_BATCHES):
        stream = f"instance/{name}" if i % 2 else "instance/shared"
        batch = checks(batch_size(i))
        await store.append(HUB, stream, batch)
        written.extend(e.event_id for e in batch)


async def process_writer(url: str, name: str, written: list[UUID]) -> None:
    result = await anyio.run_process(
        [
            sys.executable,
            "-m",
            "tests.eventstore.contract.writer_process",
            url,
            HUB,
            name,
            str(PROCESS_BATCHES),
        ],
        cwd=ROOT,
    )
    written.extend(UUID(line) for line in result.stdout.decode().split())


async def test_concurrent_writers_and_a_following_reader(
    backend: Backend, store_url: str, store: EventStore
) -> None:
    per_writer = sum(batch_size(i) for i in range(TASK_BATCHES))
    processes = PROCESSES if backend.multiprocess else 0
    total = per_writer * (TASKS + processes)
    written: list[UUID] = []
    seen: list[tuple[int, UUID]] = []

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow, store, total, seen)
            for n in range(TASKS):
                tg.start_soon(task_writer, store, f"task-{n}", written)
            for n in range(processes):
                tg.start_soon(process_writer, store_url, f"process-{n}", written)

    assert [position for position, _ in seen] == list(range(1, total + 1))
    assert sorted(event_id for _, event_id in seen) == sorted(written)
    assert len(set(written)) == total
    assert await store.head(HUB) == total
    shared = await store.stream_version(HUB, "instance/shared")
    assert shared == sum(batch_size(i) for i in range(0, TASK_BATCHES, 2)) * (TASKS + processes)
