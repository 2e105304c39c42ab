"""The Lua scripts of the Redis backend: loaded once, called by SHA.

Every script of the backend, the event store's and the read-model store's,
is here and in ``lua/``: ``lua/common.lua`` (shared helpers) followed by the
script's own file, under a ``#!lua`` line: a script with that line (Redis >= 7.0) is
refused *before it starts* when Redis is out of memory, instead of failing
at its first write, so an append never stops half-way for lack of memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib import resources
from typing import Any

import redis
from redis.exceptions import NoScriptError

_KeyOrArg = str | bytes | int


class Script:
    """One Lua script: its source and SHA, run with EVALSHA.

    After ``NOSCRIPT`` (a restarted or failed-over server, ``SCRIPT FLUSH``)
    the script is loaded again and the call repeated once.
    """

    def __init__(self, name: str) -> None:
        lua = resources.files(__package__).joinpath("lua")
        common = lua.joinpath("common.lua").read_text(encoding="utf-8")
        body = lua.joinpath(f"{name}.lua").read_text(encoding="utf-8")
        self.name = name
        self.source = f"#!lua\n{common}\n{body}"
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()

    def load(self, client: redis.Redis) -> None:
        loaded = client.script_load(self.source)
        if loaded != self.sha:  # pragma: no cover - a SHA-1 that Redis computes differently
            raise RuntimeError(f"Redis loaded script {self.name} as {loaded}, expected {self.sha}")

    def __call__(self, client: redis.Redis, keys: Sequence[str], args: Sequence[_KeyOrArg]) -> Any:
        try:
            return client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            self.load(client)
            return client.evalsha(self.sha, len(keys), *keys, *args)

    def then(
        self,
        client: redis.Redis,
        keys: Sequence[str],
        args: Sequence[_KeyOrArg],
        *command: _KeyOrArg,
    ) -> tuple[Any, Any]:
        """Run the script and then ``command`` on the same connection, in one
        round trip (``WAITAOF`` waits for *this connection's* last write).

        Returns both replies; an error reply is returned, not raised.
        """
        reply, after = self._pipelined(client, keys, args, command)
        if isinstance(reply, NoScriptError):
            self.load(client)
            reply, after = self._pipelined(client, keys, args, command)
        return reply, after

    def _pipelined(
        self,
        client: redis.Redis,
        keys: Sequence[str],
        args: Sequence[_KeyOrArg],
        command: Sequence[_KeyOrArg],
    ) -> tuple[Any, Any]:
        pipe = client.pipeline(transaction=False)
        pipe.evalsha(self.sha, len(keys), *keys, *args)
        pipe.execute_command(*command)
        reply, after = pipe.execute(raise_on_error=False)
        return reply, after


APPEND = Script("append")
READ_STREAM = Script("read_stream")
DELETE = Script("delete")
POSITION_AT = Script("position_at")
READMODEL_COMMIT = Script("readmodel_commit")
READMODEL_SCAN = Script("readmodel_scan")
READMODEL_DROP = Script("readmodel_drop")
IMPORT = Script("import")  # adapters/redis/importing.py
ALL = (
    APPEND,
    READ_STREAM,
    DELETE,
    POSITION_AT,
    READMODEL_COMMIT,
    READMODEL_SCAN,
    READMODEL_DROP,
    IMPORT,
)
"""Loaded on every primary when a store opens."""
