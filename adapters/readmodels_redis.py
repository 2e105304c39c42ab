"""Read models in Redis, beside a Redis event store's log.

Keys, all of one hub under its hash tag (one Redis Cluster slot, so one
script may touch them all)::

    <prefix>:{<hub>}:rm:<projection>:cp          Hash  position, fingerprint
    <prefix>:{<hub>}:rm:<projection>:tables      Set   tables that hold rows
    <prefix>:{<hub>}:rm:<projection>:k:<table>   ZSet  row keys, all scores 0 (lex order)
    <prefix>:{<hub>}:rm:<projection>:r:<table>   Hash  row key -> row (MessagePack)
    <prefix>:{<hub>}:rm:<projection>:snaps       ZSet  snapshot positions
    <prefix>:{<hub>}:rm:<projection>:snapdata    Hash  position -> data, position:fp -> fingerprint

and one registry of the hubs with a read model, a hint only (it may name a
hub whose model was never committed; readers check the checkpoint)::

    <prefix>:rm:hubs:<projection>                Set   hub ids

Exactly-once: a commit is one Lua script — check the checkpoint, delete the
ranges, write the rows, move the checkpoint — which Redis runs alone from
start to end; it is idempotent by position like every backend's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import redis
from redis import exceptions as rex

from eventstore.errors import BackendUnavailable, StoreClosed
from projections.errors import CheckpointConflict
from projections.storage import Checkpoint, Commit, ReadModelStore, Snapshot

from .redis import RedisEventStore
from .redis_connection import Nodes

T = TypeVar("T")

_COMMIT = """
local stored = tonumber(redis.call('HGET', KEYS[1], 'position') or '0')
local after, position = tonumber(ARGV[1]), tonumber(ARGV[2])
if stored ~= after then
  if stored == position then return {0, stored} end
  return {-1, stored}
end
local function zkey(t) return KEYS[3 + 2 * t] end
local function hkey(t) return KEYS[4 + 2 * t] end
local function remove(t, members)
  for c = 1, #members, 1000 do
    local chunk = {unpack(members, c, math.min(c + 999, #members))}
    redis.call('ZREM', zkey(t), unpack(chunk))
    redis.call('HDEL', hkey(t), unpack(chunk))
  end
end
local ntables = tonumber(ARGV[4])
local i = 5 + ntables
local nranges = tonumber(ARGV[i]); i = i + 1
for _ = 1, nranges do
  local t = tonumber(ARGV[i])
  remove(t, redis.call('ZRANGEBYLEX', zkey(t), '[' .. ARGV[i + 1], '(' .. ARGV[i + 2]))
  i = i + 3
end
local nwrites = tonumber(ARGV[i]); i = i + 1
for _ = 1, nwrites do
  local t, key = tonumber(ARGV[i]), ARGV[i + 1]
  if ARGV[i + 2] == '1' then
    redis.call('ZADD', zkey(t), 0, key)
    redis.call('HSET', hkey(t), key, ARGV[i + 3])
  else
    remove(t, {key})
  end
  i = i + 4
end
for t = 1, ntables do
  if redis.call('ZCARD', zkey(t)) > 0 then
    redis.call('SADD', KEYS[2], ARGV[4 + t])
  else
    redis.call('SREM', KEYS[2], ARGV[4 + t])
  end
end
redis.call('HSET', KEYS[1], 'position', ARGV[2], 'fingerprint', ARGV[3])
if ARGV[i] == '1' then
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[2])
  redis.call('HSET', KEYS[4], ARGV[2], ARGV[i + 1], ARGV[2] .. ':fp', ARGV[3])
end
return {1, position}
"""
# KEYS: cp, tables, snaps, snapdata, then (zset, hash) per table; the table
# keys sit at 5, 6 for table 1, 7, 8 for table 2: zkey(t) = KEYS[3 + 2t].

_SCAN = """
local keys = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
if #keys == 0 then return {} end
local rows = {}
for c = 1, #keys, 1000 do
  local chunk = {unpack(keys, c, math.min(c + 999, #keys))}
  local values = redis.call('HMGET', KEYS[2], unpack(chunk))
  for j = 1, #chunk do
    rows[#rows + 1] = chunk[j]
    rows[#rows + 1] = values[j]
  end
end
return rows
"""

_DROP = """
local tables = redis.call('SMEMBERS', KEYS[2])
if #tables ~= tonumber(ARGV[1]) then return 0 end
for _, name in ipairs(tables) do
  local known = false
  for t = 2, #ARGV do if ARGV[t] == name then known = true end end
  if not known then return 0 end
end
redis.call('DEL', unpack(KEYS))
return 1
"""


class RedisReadModelStore(ReadModelStore):
    """Read models in the Redis of ``store`` (its client and key prefix)."""

    def __init__(self, store: RedisEventStore) -> None:
        self.store = store
        self.prefix = store.key_prefix
        self._scripts: dict[str, Any] = {}
        self._closed = False

    async def close(self) -> None:
        self._closed = True  # the client is the event store's

    # --- keys -----------------------------------------------------------------

    def _base(self, projection: str, hub_id: str) -> str:
        return f"{self.prefix}:{{{hub_id}}}:rm:{projection}"

    def _table_keys(self, projection: str, hub_id: str, table: str) -> tuple[str, str]:
        base = self._base(projection, hub_id)
        return f"{base}:k:{table}", f"{base}:r:{table}"

    def _fixed_keys(self, projection: str, hub_id: str) -> list[str]:
        base = self._base(projection, hub_id)
        return [f"{base}:cp", f"{base}:tables", f"{base}:snaps", f"{base}:snapdata"]

    def _registry(self, projection: str) -> str:
        return f"{self.prefix}:rm:hubs:{projection}"

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
            lambda node: self._script("commit", _COMMIT, node)(keys, args, node), keys[0]
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
        args = [low, high, -1 if limit is None else limit]
        flat = await self._call(
            lambda node: self._script("scan", _SCAN, node)(keys, args, node), keys[0]
        )
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
            found = node.zrevrangebyscore(snaps, high, "-inf", start=0, num=1)
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
            args = [len(tables), *tables]
            if await self._call(
                lambda node, keys=keys, args=args: self._script("drop", _DROP, node)(
                    keys, args, node
                ),
                fixed[0],
            ):
                break
        registry = self._registry(projection)
        await self._call(lambda node: node.srem(registry, hub_id), registry)

    # --- plumbing -------------------------------------------------------------

    def _script(self, name: str, source: str, node: redis.Redis) -> Any:
        """A redis-py Script: EVALSHA, loading the script after NOSCRIPT."""
        script = self._scripts.get(name)
        if script is None:
            script = self._scripts[name] = node.register_script(source)
        return script

    async def _call(self, fn: Callable[[redis.Redis], T], key: str) -> T:
        """``fn(node)`` on the server holding ``key``, in a worker thread."""
        if self._closed:
            raise StoreClosed("RedisReadModelStore is closed")
        await self.store.open()
        client = self.store.client
        if client is None:  # pragma: no cover - open() sets it
            raise StoreClosed("the Redis event store has no client")
        node = Nodes(client).for_key(key)
        return await anyio.to_thread.run_sync(self._translated, fn, node)

    def _translated(self, fn: Callable[[redis.Redis], T], node: redis.Redis) -> T:
        try:
            return fn(node)
        except (
            rex.ConnectionError,
            rex.TimeoutError,
            rex.ClusterDownError,
            rex.TryAgainError,
        ) as exc:
            raise BackendUnavailable(f"Redis at {self.store.where}: {exc}") from exc
