"""A steady stream through a recorder while the test's own Redis is killed
and the test's own PostgreSQL is stopped, each for seconds: afterwards every
lifecycle event is in the log once and in order, every acknowledged sample
is there, and the stats account for every sample that is not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import pytest

from adapters import open_store
from adapters.sql import create_engine, migrations
from eventstore.recorder import Fate, Receipt, Recorder
from tests.adapters.redis.servers import RedisServer, redis_server
from tests.pg_server import LocalPostgres
from tests.recorder.conftest import HUB, check, sample

pytestmark = [pytest.mark.anyio, pytest.mark.external_service]

DOWN_FOR = 2.0  # seconds without a server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@contextmanager
def own_server(kind: str, tmp_path: Path) -> Iterator[tuple[str, object]]:
    if kind == "redis":
        args = ("--appendonly", "yes", "--appendfsync", "always")
        with RedisServer(redis_server(), tmp_path / "redis", *args) as server:
            yield f"{server.url}?retries=0&block_timeout=0.2&socket_timeout=1", server
        return
    with LocalPostgres() as pg:
        engine = create_engine(pg.url)
        with engine.connect() as conn:
            migrations.upgrade(conn)
        engine.dispose()
        yield f"{pg.url}?connect_timeout=1", pg


async def record_steadily(recorder: Recorder, receipts: list[Receipt], stop: anyio.Event) -> None:
    n = 0
    while not stop.is_set():
        event = check(n)
        receipt = recorder.record(HUB, "instance/a", event)
        while receipt.fate is Fate.REFUSED:  # back-pressure: a lifecycle event waits, same id
            await anyio.sleep(0.01)
            receipt = recorder.record(HUB, "instance/a", event)
        receipts.append(receipt)
        for i in range(3):
            receipts.append(recorder.record(HUB, f"metrics/i{i}", sample(n)))
        n += 1
        await anyio.sleep(0.005)


@pytest.mark.parametrize("kind", ["redis", "postgresql"])
async def test_the_recorder_rides_out_a_server_outage(kind: str, tmp_path: Path) -> None:
    with own_server(kind, tmp_path) as (url, server), anyio.fail_after(120):
        async with open_store(url) as store:
            receipts: list[Receipt] = []
            stop = anyio.Event()
            recorder = Recorder(
                store, max_buffer=300, spill_dir=tmp_path / "spill", spill_after=0.5, max_delay=0.05
            )
            async with recorder, anyio.create_task_group() as tg:
                tg.start_soon(record_steadily, recorder, receipts, stop)
                await anyio.sleep(0.5)
                await anyio.to_thread.run_sync(server.kill)  # type: ignore[attr-defined]
                await anyio.sleep(DOWN_FOR)
                await anyio.to_thread.run_sync(server.start)  # type: ignore[attr-defined]
                await anyio.sleep(0.5)
                stop.set()
                await recorder.flush()
                with anyio.fail_after(60):
                    while not await recorder.drain_spill():
                        await anyio.sleep(0.1)
            log = [e async for e in store.read_log(HUB)]

    counts = recorder.stats.of(HUB)
    assert counts.spilled > 0 and counts.drained == counts.spilled  # it did spill, all came back
    ids = {e.event_id for e in log}
    assert len(ids) == len(log)  # nothing doubled
    lifecycle = [r for r in receipts if r.stream == "instance/a"]
    assert {r.fate for r in lifecycle} <= {Fate.APPENDED, Fate.SPILLED}
    in_log = [e.event.latency_ms for e in log if e.stream == "instance/a"]
    assert in_log == [r.event.latency_ms for r in lifecycle]  # each once, in order
    samples = [r for r in receipts if r.stream.startswith("metrics/")]
    assert all(r.event.event_id in ids for r in samples if r.acknowledged)
    gone = [r for r in samples if not r.acknowledged]
    assert {r.fate for r in gone} <= {Fate.COALESCED, Fate.DROPPED}
    assert counts.coalesced + sum(counts.dropped.values()) == len(gone)
    assert len([e for e in log if e.type == "MetricsSampled"]) == len(samples) - len(gone)
