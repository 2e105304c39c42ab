"""Servers of the test's own killed and restarted under load (Redis with
``appendfsync always``, so an acknowledged append survives the crash;
PostgreSQL with its defaults).

* Appending: afterwards every acknowledged append is in the log exactly
  once, no batch is partial, positions run 1..head in order, and a runner
  that followed throughout holds what a rebuild gives.
* Recording: a steady stream through a recorder while the server is down
  for seconds: afterwards every lifecycle event is in the log once and in
  order, every acknowledged sample is there, and the stats account for every
  sample that is not.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import pytest

from adapters import open_store, readmodel_store_for
from adapters.sql import create_engine, migrations
from eventstore import AppendResult, BackendUnavailable, EventStore, HealthChecked
from eventstore.recorder import Fate, Receipt, Recorder
from projections import HealthProjection, ProjectionRunner
from tests import backends
from tests.eventstore.contract.factories import registered
from tests.eventstore.recorder.conftest import HUB as RECORDER_HUB
from tests.eventstore.recorder.conftest import check, sample
from tests.projections.script import HUB, folded_rows, stored_rows
from tests.servers import PostgresServer, RedisServer, redis_server

pytestmark = [pytest.mark.anyio, pytest.mark.external_service]


anyio_backend = backends.asyncio_only  # the async library is not what these tests are about


OUTAGES = int(os.environ.get("HUBLOG_OUTAGES", "2"))
"""Server crashes per append test; the long profile sets more (HUBLOG_OUTAGES=10)."""

DOWN_FOR = 2.0  # seconds the recorder's server stays down


@contextmanager
def own_server(kind: str, tmp_path: Path, *, timeout: int) -> Iterator[tuple[str, object]]:
    """A fresh server of ``kind`` and a store URL whose connections give up
    after ``timeout`` seconds."""
    if kind == "redis":
        args = ("--appendonly", "yes", "--appendfsync", "always")
        with RedisServer(redis_server(), tmp_path / "redis", *args) as server:
            yield f"{server.url}?retries=0&block_timeout=0.2&socket_timeout={timeout}", server
        return
    with PostgresServer() as server:
        engine = create_engine(server.url)
        with engine.connect() as conn:
            migrations.upgrade(conn)
        engine.dispose()
        yield f"{server.url}?connect_timeout={timeout}", server


# --- appending ------------------------------------------------------------------------


def batch(n: int) -> list[HealthChecked]:
    return [
        HealthChecked(ok=(n + i) % 4 != 0, checked_at=registered().created_at) for i in range(3)
    ]


async def append_until_acknowledged(store: EventStore, events: list[HealthChecked]) -> AppendResult:
    """Retry the same event objects until the log answers (idempotent by id)."""
    with anyio.fail_after(60):
        while True:
            try:
                return await store.append(HUB, "instance/a", events)
            except BackendUnavailable:
                await anyio.sleep(0.05)


@pytest.mark.parametrize("kind", ["redis", "postgresql"])
async def test_a_crashed_server_loses_nothing_acknowledged_and_doubles_nothing(
    kind: str, tmp_path: Path
) -> None:
    with own_server(kind, tmp_path, timeout=2) as (url, server):
        acknowledged: list[tuple[list[HealthChecked], AppendResult]] = []
        async with open_store(url) as store:
            store.reconnect_timeout = 60  # the runner's subscription rides the outages out
            await append_until_acknowledged(store, [registered()])  # type: ignore[list-item]
            async with readmodel_store_for(store) as storage, anyio.create_task_group() as tg:
                runner = ProjectionRunner(store, storage, HealthProjection(), HUB, batch_size=5)
                await tg.start(runner.run)
                for n in range(40 * (OUTAGES + 1)):
                    if n % 40 == 20:
                        server.restart()  # type: ignore[attr-defined]
                    events = batch(n)
                    acknowledged.append((events, await append_until_acknowledged(store, events)))
                head = await store.head(HUB)
                with anyio.fail_after(60):
                    while runner.position < head:
                        await anyio.sleep(0.05)
                tg.cancel_scope.cancel()

            log = [e async for e in store.read_log(HUB)]
            assert [e.position for e in log] == list(range(1, head + 1))
            by_position = {e.position: e.event_id for e in log}
            for events, result in acknowledged:  # each batch whole, once, where it was acknowledged
                assert [by_position[p] for p in result.positions] == [e.event_id for e in events]
            assert len({e.event_id for e in log}) == len(log)
            async with readmodel_store_for(store) as storage:
                assert await stored_rows(storage, HealthProjection()) == await folded_rows(
                    store, HealthProjection()
                )


# --- recording ------------------------------------------------------------------------


async def record_steadily(recorder: Recorder, receipts: list[Receipt], stop: anyio.Event) -> None:
    n = 0
    while not stop.is_set():
        event = check(n)
        receipt = recorder.record(RECORDER_HUB, "instance/a", event)
        while receipt.fate is Fate.REFUSED:  # back-pressure: a lifecycle event waits, same id
            await anyio.sleep(0.01)
            receipt = recorder.record(RECORDER_HUB, "instance/a", event)
        receipts.append(receipt)
        for i in range(3):
            receipts.append(recorder.record(RECORDER_HUB, f"metrics/i{i}", sample(n)))
        n += 1
        await anyio.sleep(0.005)


@pytest.mark.parametrize("kind", ["redis", "postgresql"])
async def test_the_recorder_rides_out_a_server_outage(kind: str, tmp_path: Path) -> None:
    with own_server(kind, tmp_path, timeout=1) as (url, server), anyio.fail_after(120):
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
            log = [e async for e in store.read_log(RECORDER_HUB)]

    counts = recorder.stats.of(RECORDER_HUB)
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
