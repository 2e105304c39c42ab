"""Read models in Redis, beside a Redis event store's log.

Keys: :class:`.keys.ReadModelKeys` (all of one hub under its hash tag, so one
script may touch them all).  Scripts: ``lua/readmodel_*.lua``.  Every call
goes through the event store's :class:`.calls.CallPath` — the same thread
hop, retries and error translation as the log's — so a failover during a
commit is retried or raised as BackendUnavailable, which the runner retries.

Exactly-once: a commit is one Lua script — check the checkpoint, delete the
ranges, write the rows, move the checkpoint — which Redis runs alone from
start to end; it is idempotent by position like every backend's, so a commit
whose reply was lost is safely sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis

from eventstore.errors import StoreClosed
from projections.errors import CheckpointConflict
from projections.readmodel_store import Checkpoint, Commit, ReadModelStore, Snapshot

from . import scripts
from .calls import CallPath
from .keys import ReadModelKeys, readmodel_hubs


class RedisReadModelStore(ReadModelStore):
    """Read models in a Redis event store's server: its call path (client,
    retries, error translation), its key prefix, and ``check_open``, which
    raises StoreClosed once the event store is closed."""

    def __init__(self, calls: CallPath, key_prefix: str, check_open: Callable[[], None]) -> None:
        self.calls = calls
        self.prefix = key_prefix
        self._check_store_open = check_open
        self._closed = False

    async def close(self) -> None:
        self._closed = True  # the client is the event store's

    # --- keys -----------------------------------------------------------------

    def _keys(self, projection: str, hub_id: str) -> ReadModelKeys:
        return ReadModelKeys.of(self.prefix, hub_id, projection)

    def _table_keys(self, projection: str, hub_id: str, table: str) -> tuple[str, str]:
        return self._keys(projection, hub_id).table(table)

    def _fixed_keys(self, projection: str, hub_id: str) -> list[str]:
        return self._keys(projection, hub_id).fixed()

    def _registry(self, projection: str) -> str:
        return readmodel_hubs(self.prefix, projection)

    # --- the commit -----------------------------------------------------------

    async def commit(self, commit: Commit) -> bool:
        p, h = commit.projection, commit.hub_id
        tables = sorted({t for t, _, _ in commit.ranges} | {t for t, _, _ in commit.writes})
        index = {t: i for i, t in enumerate(tables, start=1)}
        keys = self._fixed_keys(p, h)
        for table in tables:
            keys.extend(self._table_keys(p, h, table))
        args: list[str | bytes | int] = [
            commit.after,
            commit.position,
            commit.fingerprint,
            len(tables),
            *tables,
        ]
        args.append(len(commit.ranges))
        for table, start, stop in commit.ranges:
            args.extend((index[table], start, stop))
        args.append(len(commit.writes))
        for table, key, data in commit.writes:
            args.extend(
                (index[table], key, "0" if data is None else "1", b"" if data is None else data)
            )
        args.extend(("0", b"") if commit.snapshot is None else ("1", commit.snapshot))
        registry = self._registry(p)  # another slot: a hint written before the commit
        await self._call(lambda node: node.sadd(registry, h), registry)
        done, stored = await self._call(
            lambda node: scripts.READMODEL_COMMIT(node, keys, args), keys[0]
        )
        if done == -1:
            raise CheckpointConflict(p, h, commit.after, int(stored))
        return done == 1

    # --- reads ----------------------------------------------------------------

    async def checkpoint(self, projection: str, hub_id: str) -> Checkpoint | None:
        cp = self._fixed_keys(projection, hub_id)[0]
        position, fingerprint = await self._call(
            lambda node: node.hmget(cp, "position", "fingerprint"), cp
        )
        if position is None:
            return None
        return Checkpoint(int(position), fingerprint.decode())

    async def get(self, projection: str, hub_id: str, table: str, key: str) -> bytes | None:
        _, rows = self._table_keys(projection, hub_id, table)
        return await self._call(lambda node: node.hget(rows, key), rows)

    async def scan(
        self,
        projection: str,
        hub_id: str,
        table: str,
        *,
        start: str | None = None,
        stop: str | None = None,
        limit: int | None = None,
    ) -> list[tuple[str, bytes]]:
        keys = list(self._table_keys(projection, hub_id, table))
        low = "-" if start is None else "[" + start
        high = "+" if stop is None else "(" + stop
        args: list[str | int] = [low, high, -1 if limit is None else limit]
        flat = await self._call(lambda node: scripts.READMODEL_SCAN(node, keys, args), keys[0])
        return [
            (flat[i].decode(), bytes(flat[i + 1]))
            for i in range(0, len(flat), 2)
            if flat[i + 1] is not None
        ]

    async def find(self, projection: str, table: str, key: str) -> list[tuple[str, bytes]]:
        found = []
        for hub_id in await self.hubs(projection):
            data = await self.get(projection, hub_id, table, key)
            if data is not None:
                found.append((hub_id, data))
        return found

    async def tables(self, projection: str, hub_id: str) -> list[str]:
        key = self._fixed_keys(projection, hub_id)[1]
        return sorted(m.decode() for m in await self._call(lambda node: node.smembers(key), key))

    async def hubs(self, projection: str) -> list[str]:
        registry = self._registry(projection)
        members = await self._call(lambda node: node.smembers(registry), registry)
        hubs = []
        for hub_id in sorted(m.decode() for m in members):
            checkpoint = await self.checkpoint(projection, hub_id)
            if checkpoint is not None and checkpoint.position > 0:
                hubs.append(hub_id)
        return hubs

    async def snapshot(
        self, projection: str, hub_id: str, *, at_or_before: int | None = None
    ) -> Snapshot | None:
        _, _, snaps, data = self._fixed_keys(projection, hub_id)
        high = "+inf" if at_or_before is None else at_or_before

        def latest(node: redis.Redis) -> Any:
            found: Any = node.zrevrangebyscore(snaps, high, "-inf", start=0, num=1)
            if not found:
                return None
            position = found[0].decode()
            return int(position), *node.hmget(data, position, f"{position}:fp")

        found = await self._call(latest, snaps)
        if found is None:
            return None
        position, blob, fingerprint = found
        return Snapshot(position, fingerprint.decode(), bytes(blob))

    async def drop(self, projection: str, hub_id: str) -> None:
        fixed = self._fixed_keys(projection, hub_id)
        while True:  # a commit may add a table between reading them and the script
            tables = await self.tables(projection, hub_id)
            keys = [*fixed]
            for table in tables:
                keys.extend(self._table_keys(projection, hub_id, table))
            args: list[str | int] = [len(tables), *tables]

            def dropped(
                node: redis.Redis, keys: list[str] = keys, args: list[str | int] = args
            ) -> Any:
                return scripts.READMODEL_DROP(node, keys, args)

            if await self._call(dropped, fixed[0]):
                break
        registry = self._registry(projection)
        await self._call(lambda node: node.srem(registry, hub_id), registry)

    # --- plumbing -------------------------------------------------------------

    async def _call(self, fn: Callable[[redis.Redis], Any], key: str) -> Any:
        """``fn(node)`` on the server holding ``key``, through the event
        store's call path (opening the store first if need be).  Replies are
        redis-py's untyped ones (bytes here: no decode_responses)."""
        if self._closed:
            raise StoreClosed("RedisReadModelStore is closed")
        self._check_store_open()
        return await self.calls.on_key(key, fn)
