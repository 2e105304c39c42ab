"""A follower: the plain poll (:class:`Follower`), and the thread that every
signalled follower runs (:class:`Signalled`), feeding :class:`.heads.KnownHeads`."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import anyio
import psycopg

from eventstore.errors import BackendUnavailable
from eventstore.retry import RetryPolicy

from ..engine import Database
from .heads import KnownHeads

WAITERS = 1000
"""Worker threads for waiting subscribers, apart from the store's calls."""
LOST = (BackendUnavailable, psycopg.Error, sqlite3.Error, OSError)
"""What a follower's connection fails with; it reconnects, and nothing leaves."""


class Follower:
    """No change signal: a subscriber waits for ``woken`` or ``poll_interval``."""

    def __init__(self, poll_interval: float) -> None:
        self.poll_interval = poll_interval

    async def wait(self, hub_id: str, after: int, woken: anyio.Event) -> None:
        """Return when events after ``after`` may exist (spurious returns are fine)."""
        with anyio.move_on_after(self.poll_interval):
            await woken.wait()

    def close(self) -> None:
        """Stop the follower's thread and close its connection (blocking)."""


class Signalled(Follower):
    """A follower whose thread (started by the first wait) raises :class:`KnownHeads`."""

    name = "hublog-follower"

    def __init__(self, database: Database, poll_interval: float) -> None:
        super().__init__(poll_interval)
        self.database = database
        self.heads = KnownHeads()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._limiter: anyio.CapacityLimiter | None = None
        self._stopped = threading.Event()
        self.connection: Any = None
        """The follower's own connection while it has one (for operators and tests)."""
        self._retry = RetryPolicy(initial=0.05, multiplier=2, cap=2.0)

    async def wait(self, hub_id: str, after: int, woken: anyio.Event) -> None:
        if self.heads.watch(hub_id):
            self._watching(hub_id)
        self._start()
        if self.heads.past(hub_id, after):
            return  # appended between the subscriber's read and now
        with anyio.move_on_after(self.poll_interval):
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._wait_in_thread, hub_id, after, tg.cancel_scope)
                await woken.wait()
                tg.cancel_scope.cancel()

    async def _wait_in_thread(self, hub_id: str, after: int, scope: anyio.CancelScope) -> None:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(WAITERS)
        abandoned = threading.Event()
        try:
            await anyio.to_thread.run_sync(
                self.heads.wait_past,
                hub_id,
                after,
                abandoned,
                abandon_on_cancel=True,
                limiter=self._limiter,
            )
        finally:
            self.heads.abandon(abandoned)  # the abandoned thread ends now
        scope.cancel()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self.heads.closed:
                self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
                self._thread.start()

    def close(self) -> None:
        self.heads.close()
        self._stopped.set()
        self._interrupt()
        with self._start_lock:
            thread = self._thread
        if thread is not None:
            thread.join()

    def _serve(self) -> None:
        """The thread: follow until close, reconnecting with backoff."""
        retrying = self._retry.start()
        while not self.heads.closed:
            try:
                self._follow(retrying.reset)
            except LOST:
                # Subscribers fall back on the safety net meanwhile; the heads
                # are read again on reconnecting, so nothing is missed.
                self._stopped.wait(retrying.next_delay(time.monotonic()))

    def _follow(self, connected: Callable[[], None]) -> None:
        """Connect, then raise the known heads until close.

        Raises: any of LOST (the connection is lost; :meth:`_serve` reconnects).
        """
        raise NotImplementedError

    def _watching(self, hub_id: str) -> None:
        """A hub was watched for the first time (in the event loop's thread)."""

    def _interrupt(self) -> None:
        """Wake the thread from a wait, for close or a new hub."""

    def _raw_connection(self) -> Any:
        """A connection of the store's engine, taken out of its pool for good.

        Raises: BackendUnavailable.
        """
        fairy = self.database.call(self.database.engine.raw_connection)
        driver = fairy.driver_connection
        fairy.detach()  # closing it is ours now, not the pool's
        return driver
