"""The Redis backend: a hub's log is one Redis Stream, an append one Lua script.

Driver: redis-py's synchronous client, each call run in an anyio worker
thread (as in ``adapters/sql/``), so the backend runs under asyncio and
trio alike; ``redis.asyncio`` would tie it to asyncio.

Settings: :mod:`.settings`.  The call path (thread, retries, errors): :mod:`.calls`.
Keys: :mod:`.keys`.  Scripts: :mod:`.scripts` and ``lua/``.
Deployments and durability: ``docs/redis.md``.

Gap-free, commit-ordered positions: Redis runs a script alone from start to
end, so the append script reads the hub's head, writes the batch at the next
positions and bumps the head with no other command in between, and a reader
sees all of a batch or none of it.  Positions are the Stream's entry ids
(``<position>-0``), so reading the log from a position is one ``XRANGE`` and
following it one ``XREAD BLOCK`` from that id.

Idempotency: the script looks each event id up in the hub's ``ids`` hash
before writing; the hash outlives the events (retention deleting a sample
leaves its entry), so a retry is recognised however late it comes, after a
restart or a deletion too.

Errors: a lost connection, a timeout or a cluster in flux is retried
(``retries`` times, with backoff) and then raised as BackendUnavailable, all
in :class:`.calls.CallPath`, which the read-model store shares.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import anyio
import redis
from redis import exceptions as rex
from redis.cluster import RedisCluster

from eventstore.backend import Expected, check_expected_version, resolve_retry
from eventstore.codec import Codec
from eventstore.envelope import ANY, NO_STREAM, AppendResult, NewEvent, StoredEvent
from eventstore.errors import BackendUnavailable, StoreClosed, StoreConfigurationError
from eventstore.store import EventStore

from ..urls import StoreURL
from . import entries as entries_
from . import importing as redis_importing
from . import keys as redis_keys
from . import scripts as redis_scripts
from . import stream_index
from .calls import CallPath
from .connection import Client, Nodes, create_client
from .keys import HubKeys
from .readmodels import RedisReadModelStore
from .settings import RedisSettings

T = TypeVar("T")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZERO = entries_.EntryId(0, 0)
MICROSECOND = timedelta(microseconds=1)
MIN_VERSION = (7, 0)  # script flags (#!lua), ZRANGE BYLEX REV
LUA_EXACT = 2**53  # Lua numbers are doubles: integers are exact below this
STOP_POLL = 0.1  # seconds: how soon a cancelled subscriber's thread lets go
DELETE_CHUNK = 500  # index entries one deletion script looks at: keeps each script short


def create_store(url: StoreURL, *, codec: Codec | None = None, **options: Any) -> RedisEventStore:
    """The backend's factory (``adapters.stores``).

    Raises: StoreConfigurationError for a malformed URL or a bad option.
    """
    return RedisEventStore(RedisSettings.from_url(url, **options), codec=codec)


class RedisEventStore(EventStore):
    """An event store in Redis (standalone or Cluster).

    Args:
        client_or_url: a ``redis.Redis`` or ``redis.cluster.RedisCluster``
            (left open by :meth:`close`) or a store URL: ``redis://host:port/db``,
            ``rediss://…``, ``redis+cluster://host:port`` (see ``docs/redis.md``).
        key_prefix: first part of every key (default ``gleitzeit:hub``; the
            URL's ``?key_prefix=`` when not given).
        cluster: treat a ``redis://`` URL as a cluster (``?cluster=true``).
        wait_for_aof: acknowledge an append only once the server has written
            it to its AOF and fsynced it (``WAITAOF 1 0``; Redis >= 7.2 with
            ``appendonly yes``, checked by :meth:`open`).
        wait_for_aof_timeout: how long an append waits for that, in seconds
            (default 3; with ``appendfsync everysec`` the wait is up to 1 s);
            past it the append raises BackendUnavailable (retry it).
        block_timeout: how long one ``XREAD BLOCK`` of a subscriber waits,
            in seconds, before it asks again.
        retries: how often a call that met a lost connection, a timeout or a
            changing cluster is tried again before BackendUnavailable.
        socket_timeout: seconds to wait for a connection or a reply.
    """

    def __init__(
        self,
        client_or_url: Client | str | RedisSettings,
        *,
        codec: Codec | None = None,
        **options: Any,
    ) -> None:
        self._client: Client | None = None
        if isinstance(client_or_url, RedisSettings):
            settings = replace(client_or_url, **options) if options else client_or_url
            settings._check_timeouts()
        elif isinstance(client_or_url, str):
            settings = RedisSettings.from_url(client_or_url, **options)
        elif isinstance(client_or_url, redis.Redis | RedisCluster):
            self._client = client_or_url
            # A cluster= given is kept, for _check_client to hold against the client.
            settings = RedisSettings.for_client(
                _describe(client_or_url),
                **{"cluster": isinstance(client_or_url, RedisCluster), **options},
            )
        else:
            raise StoreConfigurationError(
                "client_or_url must be a Redis URL, a redis.Redis or a RedisCluster, "
                f"got {type(client_or_url).__name__}"
            )
        kwargs = (
            {}
            if settings.max_event_bytes is None
            else {"max_event_bytes": settings.max_event_bytes}
        )
        super().__init__(codec=codec, **kwargs)
        self.settings = settings
        self.where = settings.where
        self.key_prefix = settings.key_prefix
        self.cluster = settings.cluster
        self.wait_for_aof = settings.wait_for_aof
        self.wait_for_aof_timeout = settings.wait_for_aof_timeout
        self.block_timeout = settings.block_timeout
        self.retries = settings.retries
        self.socket_timeout = settings.socket_timeout
        self._owns_client = self._client is None
        if self._client is not None:
            self._check_client(self._client)
        elif not self.cluster:
            self._client = self._create_client()  # connects lazily: nothing sent yet
        self._nodes: Nodes | None = None
        self._ready_lock: anyio.Lock | None = None
        self._last_entry_id: dict[str, entries_.EntryId] = {}
        self._indexed: set[tuple[str, str]] = set()
        """(hub, stream) pairs this store has put in the stream index."""
        self._index_built = False
        self.calls = CallPath(
            settings,
            ensure_open=self.open,
            live_nodes=lambda: self._nodes,
            is_closed=lambda: self._closed,
        )

    def readmodel_store(self) -> RedisReadModelStore:
        """Read models in this store's Redis, through its client and call path
        (closing it leaves this store open)."""
        return RedisReadModelStore(self.calls, self.key_prefix, self._check_open)

    def _check_client(self, client: Client) -> None:
        if self.cluster != isinstance(client, RedisCluster):
            raise StoreConfigurationError(
                f"cluster={self.cluster} does not match the client given ({type(client).__name__})"
            )
        if isinstance(client, RedisCluster):
            kwargs = client.get_connection_kwargs()
        else:
            kwargs = client.connection_pool.connection_kwargs
        if kwargs.get("decode_responses"):
            raise StoreConfigurationError(
                f"the client for {self.where} has decode_responses=True; events are bytes, "
                "give hublog a client with decode_responses=False"
            )

    def _create_client(self) -> Client:
        assert self.settings.client_url is not None
        try:
            return create_client(
                self.settings.client_url, cluster=self.cluster, socket_timeout=self.socket_timeout
            )
        except ValueError as exc:
            raise StoreConfigurationError(f"bad Redis URL {self.where!r}: {exc}") from exc
        except rex.RedisClusterException as exc:
            if "cluster mode is not enabled" in str(exc).lower():
                raise StoreConfigurationError(
                    f"{self.where} names a Redis Cluster, but the server is not one: {exc}"
                ) from exc
            raise

    @property
    def client(self) -> Client | None:
        """The redis-py client (None before :meth:`open` for a cluster URL)."""
        return self._client

    # --- lifecycle ------------------------------------------------------------

    async def open(self) -> None:
        """Connect, check the server(s), load the scripts.

        Raises:
            BackendUnavailable: no answer.
            StoreConfigurationError: a server older than Redis 7.0, or
                wait_for_aof on a server without WAITAOF or without appendonly.
        """
        self._check_open()
        if self._nodes is not None:
            return
        if self._ready_lock is None:
            self._ready_lock = anyio.Lock()
        async with self._ready_lock:
            if self._nodes is None:
                await anyio.to_thread.run_sync(self.calls.attempt, self._connect)

    def _connect(self) -> None:
        if self._client is None:
            self._client = self._create_client()  # a cluster client connects here
        nodes = Nodes(self._client)
        for node in nodes.primaries():
            self._check_server(node)
            for script in redis_scripts.ALL:
                script.load(node)
        self._nodes = nodes

    def _check_server(self, node: redis.Redis) -> None:
        version = str(node.info("server").get("redis_version", "0"))
        if tuple(int(part) for part in version.split(".")[:2]) < MIN_VERSION:
            raise StoreConfigurationError(
                f"the Redis backend needs Redis >= {'.'.join(map(str, MIN_VERSION))}; "
                f"{_describe(node)} is {version}"
            )
        if self.wait_for_aof:
            _probe_waitaof(node, version)

    async def close(self) -> None:
        if self._closed:
            return
        await super().close()
        nodes, self._nodes = self._nodes, None
        if nodes is None and self._client is not None:
            nodes = Nodes(self._client)  # never opened, or open() failed half-way
        if nodes is not None:
            await anyio.to_thread.run_sync(lambda: nodes.close(owned=self._owns_client))

    async def now(self) -> datetime:
        seconds, micros = await self._run(lambda nodes: nodes.any().time())
        return EPOCH + timedelta(seconds=seconds, microseconds=micros)

    # --- the primitives -------------------------------------------------------

    async def _append(
        self, hub_id: str, stream: str, batch: Sequence[NewEvent], expected: Expected
    ) -> AppendResult:
        await self._index_streams(hub_id, (stream,))
        args = _append_args(stream, batch, expected, touch=self.wait_for_aof)
        reply = await self._on_hub(hub_id, self._append_sync, args)
        outcome = reply[0].decode()
        if outcome == "written":
            return _resolve(hub_id, stream, batch, reply[1])
        if outcome == "conflict":
            check_expected_version(hub_id, stream, expected, int(reply[1]))
            raise AssertionError(f"append script saw a conflict with {expected} at {reply[1]}")
        return AppendResult(int(reply[1]), int(reply[2]), int(reply[3]))

    def _append_sync(self, node: redis.Redis, keys: HubKeys, args: list[str | bytes]) -> Any:
        if not self.wait_for_aof:
            return redis_scripts.APPEND(node, [*keys.all(), keys.foreign], args)
        timeout_ms = max(1, round(self.wait_for_aof_timeout * 1000))
        reply, synced = redis_scripts.APPEND.then(
            node, [*keys.all(), keys.foreign], args, "WAITAOF", 1, 0, timeout_ms
        )
        if isinstance(reply, Exception):
            raise reply
        if isinstance(synced, Exception) or int(synced[0]) < 1:
            raise BackendUnavailable(
                f"Redis at {self.where} did not confirm within {self.wait_for_aof_timeout}s that "
                f"the append reached its AOF on disk (WAITAOF: {_waitaof_answer(synced)}); "
                "retry the same batch"
            )
        return reply

    async def _import_events(self, hub_id: str, events: Sequence[StoredEvent]) -> int:
        await self._index_streams(hub_id, {event.stream for event in events})
        return await self._on_hub(hub_id, redis_importing.import_batch, events)

    async def _index_streams(self, hub_id: str, streams: Iterable[str]) -> None:
        """Ahead of a hub's first append to a stream in this process: the
        stream index names the hub (one command, once)."""
        new = [s for s in streams if (hub_id, s) not in self._indexed]
        if new:
            await self._run(lambda nodes: stream_index.add(nodes, self.key_prefix, hub_id, new))
            self._indexed.update((hub_id, s) for s in new)

    async def _hubs_with_stream(self, stream: str) -> list[str]:
        if not self._index_built:
            prefix = self.key_prefix
            await self._run(
                lambda nodes: stream_index.build_once(nodes, prefix, self._hubs_sync(nodes))
            )
            self._index_built = True
        named = await self._run(lambda nodes: stream_index.hubs_of(nodes, self.key_prefix, stream))
        return [hub for hub in named if await self._stream_version(hub, stream) > 0]

    async def _read_stream_page(
        self,
        hub_id: str,
        stream: str,
        *,
        after_version: int,
        before_version: int | None,
        backwards: bool,
        limit: int,
    ) -> Sequence[StoredEvent]:
        # Lua counts in doubles, exact only below 2**53: no stream gets that
        # far, so beyond it there is nothing to read (and no bound to set).
        if after_version >= LUA_EXACT:
            return []
        before = -1 if before_version is None or before_version >= LUA_EXACT else before_version
        args = [stream, after_version, before, int(backwards), min(limit, LUA_EXACT)]
        entries = await self._on_hub(hub_id, _read_stream_page, args)
        return [
            entries_.stored(hub_id, entry_id, dict(entries_.pairs(fields)))
            for entry_id, fields in entries
        ]

    async def _read_log_page(self, hub_id: str, *, after: int, limit: int) -> Sequence[StoredEvent]:
        own, last_id = await self._on_hub(hub_id, entries_.read_own_page, after, limit)
        if last_id is not None:
            self._last_entry_id[hub_id] = last_id
        return [entries_.stored(hub_id, entry_id, fields) for entry_id, fields in own]

    async def _stream_version(self, hub_id: str, stream: str) -> int:
        return int(await self._on_hub(hub_id, _stream_version, stream) or 0)

    async def _head(self, hub_id: str) -> int:
        return int(await self._on_hub(hub_id, _head) or 0)

    async def _position_at(self, hub_id: str, when: datetime) -> int:
        micros = (when - EPOCH) // MICROSECOND
        return int(await self._on_hub(hub_id, _position_at, micros))

    async def _delete_events(
        self, hub_id: str, stream: str, through_version: int, type_name: str
    ) -> int:
        # In chunks, so no one script holds Redis for long.  Lua counts in
        # doubles (see _read_stream_page): a bound beyond 2**53 means "all".
        through_version = min(through_version, LUA_EXACT)
        removed, after = 0, 0
        while after < through_version:
            args = [stream, after, through_version, type_name, DELETE_CHUNK]
            gone, looked_at, after = await self._on_hub(hub_id, _delete_chunk, args)
            removed += gone
            if looked_at < DELETE_CHUNK:
                break
        return removed

    async def _hubs(self) -> list[str]:
        return await self._run(self._hubs_sync)

    def _hubs_sync(self, nodes: Nodes) -> list[str]:
        # One SCAN per primary: every hub's meta key lives on exactly one of them.
        pattern = redis_keys.meta_pattern(self.key_prefix)
        found = set()
        for node in nodes.primaries():
            for key in node.scan_iter(match=pattern, count=1000, _type="hash"):
                hub = redis_keys.hub_of_meta_key(self.key_prefix, key.decode())
                if hub is not None:
                    found.add(hub)
        return list(found)

    async def _wait_for_events(self, hub_id: str, after: int, woken: anyio.Event) -> None:
        # Whichever comes first: an entry after `after` (any process's append)
        # or `woken` (this process's append, or close).  The thread that
        # blocks in Redis is told to stop when the wait ends, and stops within
        # one short XREAD BLOCK, so a cancelled subscriber frees its thread
        # and connection promptly (not after block_timeout).
        log = HubKeys.of(self.key_prefix, hub_id).log
        failed: list[BackendUnavailable] = []
        stop = threading.Event()
        try:
            async with anyio.create_task_group() as tg:

                async def watch_redis() -> None:
                    try:
                        await self._run_blocking(
                            lambda nodes: self._xread(nodes, log, hub_id, after, stop)
                        )
                    except BackendUnavailable as exc:
                        failed.append(exc)  # raised below, not as an ExceptionGroup
                    except StoreClosed:
                        pass
                    tg.cancel_scope.cancel()

                tg.start_soon(watch_redis)
                await woken.wait()
                tg.cancel_scope.cancel()
        finally:
            stop.set()
        if failed:
            raise failed[0]  # subscribe backs off and reads again from its position

    def _xread(self, nodes: Nodes, log: str, hub_id: str, after: int, stop: threading.Event) -> Any:
        """Block until an entry after the last one seen, ``block_timeout``
        passes, or ``stop`` is set — in slices of at most STOP_POLL."""
        # From the last entry the page read, foreign ones included: from
        # "<after>-0" a foreign entry above it would wake the reader at once,
        # again and again.
        since = max(entries_.EntryId.parse(f"{after}-0"), self._last_entry_id.get(hub_id, _ZERO))
        client = nodes.blocking_for_key(log)
        deadline = time.monotonic() + self.block_timeout
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            block_ms = max(1, round(min(left, STOP_POLL) * 1000))
            found = client.xread({log: str(since)}, count=1, block=block_ms)
            if found:
                return found
        return None

    # --- plumbing -------------------------------------------------------------

    async def _on_hub(self, hub_id: str, fn: Callable[..., T], *args: Any) -> T:
        """``fn(node, keys, *args)`` on the server that holds the hub."""
        keys = HubKeys.of(self.key_prefix, hub_id)
        return await self._run(lambda nodes: fn(nodes.for_key(keys.log), keys, *args))

    async def _run(self, fn: Callable[[Nodes], T]) -> T:
        self._check_open()
        return await self.calls.run(fn)

    async def _run_blocking(self, fn: Callable[[Nodes], T]) -> T:
        self._check_open()
        return await self.calls.run_blocking(fn)


def _append_args(
    stream: str, batch: Sequence[NewEvent], expected: Expected, *, touch: bool
) -> list[str | bytes]:
    wanted = -1 if expected is ANY else 0 if expected is NO_STREAM else int(expected)  # type: ignore[arg-type]
    args: list[str | bytes] = [stream, str(wanted), "1" if touch else "0", str(len(batch))]
    for event in batch:
        args += [
            str(event.event_id),
            event.type,
            str(event.schema_version),
            event.data,
            "" if event.correlation_id is None else "=" + event.correlation_id,
            "" if event.causation_id is None else "=" + event.causation_id,
        ]
    return args


def _read_stream_page(node: redis.Redis, keys: HubKeys, args: list[Any]) -> Any:
    return redis_scripts.READ_STREAM(node, [keys.log, keys.index], args)


def _stream_version(node: redis.Redis, keys: HubKeys, stream: str) -> Any:
    return node.hget(keys.versions, stream)


def _head(node: redis.Redis, keys: HubKeys) -> Any:
    return node.hget(keys.meta, "head")


def _position_at(node: redis.Redis, keys: HubKeys, micros: int) -> Any:
    return redis_scripts.POSITION_AT(node, [keys.log, keys.meta], [micros])


def _delete_chunk(node: redis.Redis, keys: HubKeys, args: list[Any]) -> Any:
    return redis_scripts.DELETE(node, [keys.log, keys.index], args)


def _resolve(
    hub_id: str, stream: str, batch: Sequence[NewEvent], found: list[bytes]
) -> AppendResult:
    written = []
    for event_id, where in entries_.pairs(found):
        written_stream, version, position = where.split(b"\0")
        written.append(
            (UUID(event_id.decode()), written_stream.decode(), int(version), int(position))
        )
    result = resolve_retry(hub_id, stream, batch, written)
    assert result is not None  # found is never empty
    return result


def _probe_waitaof(node: redis.Redis, version: str) -> None:
    """Raises: StoreConfigurationError when ``node`` cannot honour WAITAOF.

    A fresh connection has written nothing, so the probe returns at once
    where WAITAOF works, and errs where the command or the AOF is missing;
    with ``appendfsync no`` it would wait forever, so that is refused too.
    """
    try:
        node.execute_command("WAITAOF", 1, 0, 1)
    except rex.ResponseError as exc:
        if "unknown command" in str(exc).lower():
            raise StoreConfigurationError(
                f"wait_for_aof needs the WAITAOF command (Redis >= 7.2); {_describe(node)} is "
                f"Redis {version}. Use appendfsync always there instead (docs/redis.md)"
            ) from exc
        if "appendonly" in str(exc).lower():
            raise StoreConfigurationError(
                f"wait_for_aof needs appendonly yes on {_describe(node)}: {exc}"
            ) from exc
        raise
    if _config(node, "appendfsync") == "no":  # the fsync WAITAOF waits for never comes
        raise StoreConfigurationError(
            f"wait_for_aof needs appendfsync everysec or always on {_describe(node)}, not no"
        )


def _config(node: redis.Redis, name: str) -> str | None:
    """A server setting, or None where CONFIG is disabled (managed services)."""
    try:
        return node.config_get(name).get(name)
    except rex.ResponseError:
        return None


def _waitaof_answer(synced: object) -> str:
    """The server's own words for a refused WAITAOF (redis-py's repr of an
    error reply drops them), else the reply as it came."""
    return f"{type(synced).__name__}: {synced}" if isinstance(synced, Exception) else repr(synced)


def _describe(client: Client) -> str:
    if isinstance(client, RedisCluster):
        node = client.get_default_node()
        return f"redis+cluster://{node.host}:{node.port}" if node else "a Redis Cluster"
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    return f"redis://{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
