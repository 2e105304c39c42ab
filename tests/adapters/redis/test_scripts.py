"""The Lua scripts: built from ``lua/common.lua`` and their own file under a
``#!lua`` line, called by the SHA Redis agrees on, loaded again after the
server forgot them, with ``WAITAOF`` after an append in the same round trip."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis

import adapters.redis
from adapters import open_store
from adapters.redis import RedisEventStore
from adapters.redis.keys import HubKeys
from adapters.redis.scripts import APPEND, Script
from eventstore import BackendUnavailable
from tests.eventstore.contract.factories import checks, registered
from tests.servers import RedisServer, redis_server_72

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"
LUA = Path(adapters.redis.__file__).with_name("lua")


def test_a_script_is_common_lua_and_its_own_file_under_the_lua_flag_line(redis_url: str) -> None:
    script = Script("position_at")  # its file holds non-ASCII text ("µs")
    common = (LUA / "common.lua").read_text(encoding="utf-8")
    body = (LUA / "position_at.lua").read_text(encoding="utf-8")

    assert (script.name, script.source) == ("position_at", f"#!lua\n{common}\n{body}")
    keys = HubKeys.of(redis_url.split("key_prefix=")[1], HUB)
    with redis.Redis.from_url(redis_url.split("?")[0]) as client:
        assert client.script_load(script.source) == script.sha
        assert script(client, [keys.log, keys.meta], [0]) == 0  # no hub there: position 0


async def test_an_append_under_wait_for_aof_loads_the_script_again_after_the_server_forgot_it(
    tmp_path: Path,
) -> None:
    options = ("--appendonly", "yes", "--appendfsync", "always")
    with RedisServer(redis_server_72(), tmp_path, *options) as server:
        async with open_store(server.url, wait_for_aof=True) as store:
            await store.append(HUB, A, [registered()])
            with server.client() as admin:
                admin.script_flush()

                started = time.monotonic()
                result = await store.append(HUB, A, checks(2))
                took = time.monotonic() - started

                assert took < 1.5  # waited for this connection's own fsync, not its timeout (3 s)

                assert admin.script_exists(APPEND.sha) == [True]
            assert result.positions == range(2, 4)
            assert [(e.position, e.version) async for e in store.read_log(HUB)] == [
                (1, 1),
                (2, 2),
                (3, 3),
            ]


async def test_an_append_whose_waitaof_is_refused_is_unavailable_and_was_written(
    tmp_path: Path,
) -> None:
    options = ("--appendonly", "yes", "--appendfsync", "always")
    with RedisServer(redis_server_72(), tmp_path, *options) as server:
        async with open_store(server.url, wait_for_aof=True, retries=0) as store:
            assert isinstance(store, RedisEventStore)
            await store.append(HUB, A, [registered()])
            with server.client() as admin:
                admin.config_set("appendonly", "no")  # WAITAOF now errs: nothing to wait for

            with pytest.raises(BackendUnavailable) as unconfirmed:
                await store.append(HUB, A, checks(1))

            assert str(unconfirmed.value).startswith(
                f"Redis at {server.url} did not confirm within 3.0s that the append reached its "
                "AOF on disk (WAITAOF: "
            )
            assert str(unconfirmed.value).endswith("); retry the same batch")
            assert await store.head(HUB) == 2  # written, only not confirmed on disk


async def test_an_append_whose_waitaof_is_refused_says_why_the_server_refused(
    tmp_path: Path,
) -> None:
    options = ("--appendonly", "yes", "--appendfsync", "always")
    with RedisServer(redis_server_72(), tmp_path, *options) as server:
        async with open_store(server.url, wait_for_aof=True, retries=0) as store:
            with server.client() as admin:
                admin.config_set("appendonly", "no")

            with pytest.raises(BackendUnavailable) as unconfirmed:
                await store.append(HUB, A, [registered()])

    assert "appendonly is disabled" in str(unconfirmed.value)
