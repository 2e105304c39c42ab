"""The Redis read-model store in a failure: it shares the event store's call
path, so a lost reply or a restarted server is retried (or raised as
BackendUnavailable, which the runner retries) — the runner keeps running
and the read model ends equal to a rebuild."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from redis import exceptions as rex

from adapters import open_store, readmodel_store_for
from adapters.redis import scripts
from adapters.redis.calls import TRANSIENT
from eventstore import BackendUnavailable, EventStore, HealthChecked
from projections import HealthProjection, HubProjection, ProjectionRunner
from tests.adapters.redis.proxy import Proxy
from tests.adapters.redis.waiting import until
from tests.deadlines import within
from tests.projections.script import HUB, Script, folded_rows, stored_rows
from tests.servers import RedisServer, free_port, redis_server

pytestmark = pytest.mark.anyio


async def a_hub_with_history(store: EventStore, checks: int = 40) -> None:
    script = Script(store, HUB)
    await script.started()
    await script.healthy("a")
    for i in range(checks):
        await script.check("a", i % 5 != 4)
    await script.grant("a", "node-1", capacity=2)


def test_failover_errors_are_transient_for_the_read_models_too() -> None:
    # What the old read-model adapter let through raw, crashing the runner.
    for error in (rex.ReadOnlyError, rex.MovedError, rex.ClusterDownError, rex.TryAgainError):
        assert issubclass(error, TRANSIENT)


async def test_a_commit_whose_reply_is_lost_is_retried_and_applied_once(
    redis_url: str, proxied_url: str, proxy: Proxy
) -> None:
    async with open_store(redis_url) as direct, open_store(proxied_url) as store:
        await a_hub_with_history(direct)
        proxy.swallow_reply_to(scripts.READMODEL_COMMIT.sha.encode())
        async with readmodel_store_for(store) as storage:
            runner = ProjectionRunner(store, storage, HubProjection(), HUB, batch_size=7)

            with within("a catch-up whose commit reply is lost"):
                position = await runner.catch_up()

            assert proxy.swallowed.is_set()  # the reply really was lost, and retried
            assert position == await direct.head(HUB)
            assert await stored_rows(storage, HubProjection()) == await folded_rows(
                direct, HubProjection()
            )


async def test_a_commit_that_fails_every_retry_is_backend_unavailable(
    redis_url: str, proxied_url: str, proxy: Proxy
) -> None:
    async with open_store(redis_url) as direct, open_store(proxied_url, retries=0) as store:
        await a_hub_with_history(direct, checks=3)
        proxy.swallow_reply_to(scripts.READMODEL_COMMIT.sha.encode())
        async with readmodel_store_for(store) as storage:
            runner = ProjectionRunner(store, storage, HealthProjection(), HUB)
            # no retries in the call path: the runner's own commit retry carries it
            with within("a catch-up whose commits fail"):
                position = await runner.catch_up()

            assert proxy.swallowed.is_set()
            assert position == await direct.head(HUB)
            assert await stored_rows(storage, HealthProjection()) == await folded_rows(
                direct, HealthProjection()
            )


async def test_a_server_that_is_gone_makes_the_commit_backend_unavailable(
    tmp_path: Path,
) -> None:
    with RedisServer(redis_server(), tmp_path / "redis") as server:
        async with open_store(
            server.url, retries=0, socket_timeout=0.5, block_timeout=0.2
        ) as store:
            await a_hub_with_history(store, checks=3)
            async with readmodel_store_for(store) as storage:
                await storage.checkpoint("hub", HUB)  # connected
                server.kill()

                with pytest.raises(BackendUnavailable, match="Redis at redis://127.0.0.1"):
                    await storage.checkpoint("hub", HUB)


async def test_a_running_runner_rides_out_a_server_restart(tmp_path: Path) -> None:
    # The server keeps its data across the restart (AOF), as a real one would.
    with RedisServer(
        redis_server(), tmp_path / "redis", "--appendonly", "yes", "--appendfsync", "always"
    ) as server:
        async with open_store(server.url, retries=8, block_timeout=0.2) as store:
            await a_hub_with_history(store, checks=5)
            async with readmodel_store_for(store) as storage, anyio.create_task_group() as tg:
                runner = ProjectionRunner(store, storage, HubProjection(), HUB, batch_size=3)
                await tg.start(runner.run)
                await until(lambda: runner.position >= 7, "the runner caught up")

                server.restart()  # the runner's next read or commit meets a dead connection
                for i in range(5):
                    check = HealthChecked(ok=i % 2 == 0, checked_at=await store.now(), latency_ms=3)
                    await store.append(HUB, "instance/a", [check])
                head = await store.head(HUB)
                await until(lambda: runner.position == head, "the runner follows after the restart")
                tg.cancel_scope.cancel()

            async with readmodel_store_for(store) as storage:
                assert await stored_rows(storage, HubProjection()) == await folded_rows(
                    store, HubProjection()
                )


async def test_a_commit_during_a_failover_to_read_only_is_retried_not_raised_raw(
    tmp_path: Path,
) -> None:
    # A primary demoted to a replica answers READONLY to every write: what a
    # failover looks like to a client.  The commit must wait it out.
    with RedisServer(redis_server(), tmp_path / "redis") as server:
        async with open_store(server.url, retries=10) as store:
            await a_hub_with_history(store, checks=3)
            async with readmodel_store_for(store) as storage:
                await storage.checkpoint("hub", HUB)  # connected, scripts loaded
                with server.client() as admin:
                    admin.execute_command("REPLICAOF", "127.0.0.1", str(free_port()))
                    runner = ProjectionRunner(store, storage, HubProjection(), HUB)

                    with within("a catch-up in a failover"):
                        async with anyio.create_task_group() as tg:

                            async def promote_again() -> None:
                                await anyio.sleep(0.4)
                                admin.execute_command("REPLICAOF", "NO", "ONE")

                            tg.start_soon(promote_again)
                            position = await runner.catch_up()

                assert position == await store.head(HUB)
                assert await stored_rows(storage, HubProjection()) == await folded_rows(
                    store, HubProjection()
                )
