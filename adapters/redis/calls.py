"""The one call path to Redis: every command of the event store and of the
read-model store goes through here.

A call runs in an anyio worker thread (redis-py is synchronous, so the
backend runs under asyncio and trio alike); a lost connection, a timeout or
a cluster in flux (``MOVED``, ``CLUSTERDOWN``, ``READONLY`` after a failover)
is tried again under the project's one backoff policy, the slot map learnt
again on a cluster, and then raised as BackendUnavailable; out of memory is
BackendUnavailable at once; any other refusal is BackendError (or
StoreConfigurationError for a DB index out of range or a wrong password), so
no redis-py exception ever leaves the backend.  Retrying is safe because
it is safe for every call the backend makes (reads change nothing, an
append recognises its own event ids, a read-model commit its own position,
a deletion deletes what is still there).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import redis
from redis import exceptions as rex

from eventstore.errors import (
    BackendError,
    BackendUnavailable,
    StoreClosed,
    StoreConfigurationError,
)
from eventstore.retry import RetryPolicy

from .connection import Nodes
from .settings import RedisSettings

T = TypeVar("T")

# Worth another try: the server may be back, the slot map fresh, the load finished.
TRANSIENT = (
    rex.ConnectionError,  # includes BusyLoadingError: a restarted server reading its AOF
    rex.TimeoutError,
    rex.ClusterDownError,
    rex.TryAgainError,
    rex.AskError,  # and MovedError: the key's slot moved
    rex.ReadOnlyError,  # a failover made our node a replica
    rex.ClusterError,
    rex.RedisClusterException,  # includes SlotNotCoveredError; no node reachable
)


class CallPath:
    """Runs functions of the live :class:`Nodes` in worker threads, retried
    and translated.

    Args:
        settings: ``where`` (for messages) and ``retries``.
        ensure_open: connects (once) before the first call.
        live_nodes: the connected nodes; raises StoreClosed after close.
        is_closed: whether the owner has closed (no retry after that).
    """

    def __init__(
        self,
        settings: RedisSettings,
        *,
        ensure_open: Callable[[], Awaitable[None]],
        live_nodes: Callable[[], Nodes | None],
        is_closed: Callable[[], bool],
    ) -> None:
        self.settings = settings
        self.policy = RetryPolicy(
            initial=0.05, multiplier=2, cap=1.0, attempts=settings.retries + 1
        )
        self._ensure_open = ensure_open
        self._live_nodes = live_nodes
        self._is_closed = is_closed
        # Blocking reads (XREAD BLOCK) have threads of their own, so a thousand
        # subscribers never starve the default pool of worker threads.
        self._blocking_limiter = anyio.CapacityLimiter(1000)

    async def run(self, fn: Callable[[Nodes], T]) -> T:
        """``fn(nodes)`` in a worker thread, retried and translated."""
        if self._live_nodes() is None:
            await self._ensure_open()
        return await anyio.to_thread.run_sync(self.attempt, lambda: fn(self.nodes()))

    async def on_key(self, key: str, fn: Callable[[redis.Redis], T]) -> T:
        """``fn(node)`` on the server that holds ``key``."""
        return await self.run(lambda nodes: fn(nodes.for_key(key)))

    async def run_blocking(self, fn: Callable[[Nodes], T]) -> T:
        """For a read that blocks: a cancelled caller does not wait for the
        thread, which ends with its ``XREAD BLOCK`` (or at close)."""
        return await anyio.to_thread.run_sync(
            self.attempt,
            lambda: fn(self.nodes()),
            abandon_on_cancel=True,
            limiter=self._blocking_limiter,
        )

    def nodes(self) -> Nodes:
        nodes = self._live_nodes()
        if nodes is None:  # closed while this call waited for its thread
            raise StoreClosed(f"the Redis store at {self.settings.where} is closed")
        return nodes

    def attempt(self, fn: Callable[[], T]) -> T:
        """Run ``fn()`` in this worker thread; transient failures are tried
        again, then become BackendUnavailable.  The one place Redis errors
        are translated."""
        retrying = self.policy.start()
        while True:
            try:
                return fn()
            except rex.AuthenticationError as exc:  # a ConnectionError, but not transient
                raise refusal(self.settings.where, exc) from exc
            except TRANSIENT as exc:
                delay = None if self._is_closed() else retrying.next_delay(time.monotonic())
                if delay is None:
                    where = self.settings.where
                    raise BackendUnavailable(f"Redis at {where}: {reason(exc)}") from exc
                time.sleep(delay)
                self._refresh()
            except rex.OutOfMemoryError as exc:  # not worth an immediate retry
                raise BackendUnavailable(
                    f"Redis at {self.settings.where} is out of memory: {exc}"
                ) from exc
            except rex.RedisError as exc:  # anything else: a refusal retrying won't cure
                raise refusal(self.settings.where, exc) from exc

    def _refresh(self) -> None:
        nodes = self._live_nodes()
        if nodes is not None and nodes.is_cluster:
            try:
                nodes.refresh()
            except rex.RedisError:
                pass  # the next attempt meets the same trouble and says so


def refusal(where: str, exc: rex.RedisError) -> BackendError | StoreConfigurationError:
    """A Redis refusal as hublog's error: a bad setting where the server says
    so (a DB index out of range, a wrong password), else BackendError."""
    text = str(exc)
    lowered = text.lower()
    if "db index is out of range" in lowered or isinstance(exc, rex.AuthenticationError):
        return StoreConfigurationError(f"Redis at {where} refused the connection: {text}")
    return BackendError(f"Redis at {where} refused the request: {reason(exc)}")


def reason(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
