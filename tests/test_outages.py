"""Servers of the test's own killed and restarted under load: afterwards
every acknowledged append is in the log exactly once, no batch is partial,
positions run 1..head in order, and a runner that followed throughout holds
what a rebuild gives.  (Redis with ``appendfsync always``, so an
acknowledged append survives the crash; PostgreSQL with its defaults.)"""

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
from projections import HealthProjection, ProjectionRunner
from tests.adapters.redis.servers import RedisServer, redis_server
from tests.contract.factories import registered
from tests.pg_server import LocalPostgres
from tests.projections.script import HUB, folded_rows, stored_rows

pytestmark = [pytest.mark.anyio, pytest.mark.external_service]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the async library is not what these tests are about


OUTAGES = int(os.environ.get("HUBLOG_OUTAGES", "2"))
"""Server crashes per test; the long profile sets more (HUBLOG_OUTAGES=10)."""


@contextmanager
def own_server(kind: str, tmp_path: Path) -> Iterator[tuple[str, object]]:
    if kind == "redis":
        args = ("--appendonly", "yes", "--appendfsync", "always")
        with RedisServer(redis_server(), tmp_path / "redis", *args) as server:
            yield f"{server.url}?retries=0&block_timeout=0.2&socket_timeout=2", server
        return
    with LocalPostgres() as server:
        engine = create_engine(server.url)
        with engine.connect() as conn:
            migrations.upgrade(conn)
        engine.dispose()
        yield f"{server.url}?connect_timeout=2", server


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
    with own_server(kind, tmp_path) as (url, server):
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
