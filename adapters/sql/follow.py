"""How an SQL subscriber learns, within milliseconds, that another process appended.

``subscribe`` (``eventstore/store.py``) reads a page, then waits in the
backend's ``_wait_for_events(hub_id, after, woken)``.  Appends in this
process set ``woken``; for appends by other processes each store has one
*follower*, made by :func:`follower_for`:

- **PostgreSQL** (:class:`PostgresListener`): every append sends
  ``pg_notify(<the hub's channel>, <new head>)`` from its head upsert
  (inside the server-side ``hublog_advance`` of migration 0003, or
  :func:`notify` on the step-by-step path; no extra round trip, delivered
  at commit, never for a rollback).  One dedicated connection per store listens on the channels
  of the hubs its subscribers wait on, in one thread blocked in ``select``.
- **SQLite** (:class:`SQLiteChangeCheck`): one dedicated connection per store
  reads ``PRAGMA data_version`` every ``change_check_interval`` (5 ms; 20 ms
  after a quiet second) while a subscriber waits; the number changes
  whenever another connection commits, and only then are the heads of the
  watched hubs read.

Both feed :class:`KnownHeads`: the newest head known per watched hub.  A
subscriber returns as soon as the known head passes its position, so an
append that lands between its read and its wait is not missed (the heads of
a hub are read once it is watched, and again after a lost connection).  The
poll stays as a safety net: a subscriber reads at least every
``poll_interval`` whatever the follower says.  Nothing here raises into the
API: a follower that fails reconnects with backoff, and meanwhile
subscribers fall back on the safety net.

Assumption: the event at a hub's head is never deleted (retention removes
only samples that a later rollup covers); otherwise a subscriber behind a
deleted tail re-reads until the next append.
"""

from __future__ import annotations

import select
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import anyio
import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.dialects import postgresql

from eventstore.errors import BackendUnavailable
from eventstore.retry import RetryPolicy

from .engine import Database
from .schema import hubs
from .settings import SQLSettings

WAITERS = 1000
"""Worker threads for waiting subscribers, apart from the store's calls."""
LOST = (BackendUnavailable, psycopg.Error, sqlite3.Error, OSError)
"""What a follower's connection fails with; it reconnects, and nothing leaves."""
QUIET_AFTER, QUIET_SLOWDOWN = 1.0, 4
"""After this many seconds without a commit the SQLite change check runs
this many times less often (5 ms -> 20 ms), until the next commit: an idle
subscriber then costs a quarter of the wake-ups."""


def channel(hub_id: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """The hub's NOTIFY channel: ``hublog_`` + md5(hublog_hubs' oid / hub id).

    Hex digits only and 39 bytes long, so any hub id makes a valid channel
    name (at most 63 bytes); the table's oid tells apart schemas sharing a
    database (notifications never cross databases).  Computed by the server
    for writer and listener alike, so both hash the same bytes.
    """
    table = sa.cast(sa.cast(sa.literal(hubs.name), postgresql.REGCLASS), postgresql.OID)
    return sa.literal("hublog_", sa.Text) + sa.func.md5(sa.cast(table, sa.Text) + "/" + hub_id)


def notify(hub_id: sa.ColumnElement[str], head: sa.ColumnElement[int]) -> sa.ColumnElement[Any]:
    """``pg_notify`` of the hub's new head, for an append's head upsert."""
    return sa.func.pg_notify(channel(hub_id), sa.cast(head, sa.Text))


class KnownHeads:
    """The newest head known per watched hub, shared by a follower's thread
    (which raises them) and the worker threads of waiting subscribers."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._heads: dict[str, int] = {}
        self.waiting = 0
        self.closed = False

    def watch(self, hub_id: str) -> bool:
        """Start tracking ``hub_id``; True the first time."""
        with self._changed:
            if hub_id in self._heads:
                return False
            self._heads[hub_id] = 0
            return True

    def __len__(self) -> int:
        return len(self._heads)

    def watched(self) -> list[str]:
        with self._changed:
            return list(self._heads)

    def raise_to(self, hub_id: str, head: int) -> None:
        with self._changed:
            if head > self._heads.get(hub_id, head):
                self._heads[hub_id] = head
                self._changed.notify_all()

    def past(self, hub_id: str, after: int) -> bool:
        with self._changed:
            return self.closed or self._heads.get(hub_id, 0) > after

    def wait_past(self, hub_id: str, after: int, abandoned: threading.Event) -> None:
        """Block until the hub's known head passes ``after``, close, or
        ``abandoned`` is set (with :meth:`abandon`)."""
        with self._changed:
            self.waiting += 1
            self._changed.notify_all()  # a parked change check starts
            try:
                self._changed.wait_for(
                    lambda: self.closed or abandoned.is_set() or self._heads.get(hub_id, 0) > after
                )
            finally:
                self.waiting -= 1

    def abandon(self, abandoned: threading.Event) -> None:
        with self._changed:
            abandoned.set()
            self._changed.notify_all()

    def park(self) -> None:
        """Block while no subscriber waits (a change check then costs nothing)."""
        with self._changed:
            self._changed.wait_for(lambda: self.closed or self.waiting > 0)

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()


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


class _Signalled(Follower):
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


class PostgresListener(_Signalled):
    """One ``LISTEN`` connection per store, shared by all its subscribers."""

    name = "hublog-listener"

    def __init__(self, database: Database, poll_interval: float) -> None:
        super().__init__(database, poll_interval)
        # A wake-up for the thread blocked in select(): close, or a new hub.
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.backend_pid: int | None = None
        """The listener's server process (``pg_stat_activity.pid``), once connected."""

    def _watching(self, hub_id: str) -> None:
        self._interrupt()

    def _interrupt(self) -> None:
        try:
            self._wake_w.send(b"x")
        except (BlockingIOError, OSError):
            pass  # a wake-up is pending already, or we are closed

    def close(self) -> None:
        super().close()
        self._wake_r.close()
        self._wake_w.close()

    def _follow(self, connected: Callable[[], None]) -> None:
        conn: psycopg.Connection[Any] = self._raw_connection()
        try:
            conn.rollback()  # the pool's pre-ping may have begun a transaction
            conn.autocommit = True
            conn.execute("SET application_name = 'hublog-listener'")
            self.connection, self.backend_pid = conn, conn.info.backend_pid
            connected()
            self._listen_until_closed(conn)
        finally:
            self.connection = self.backend_pid = None
            conn.close()

    def _listen_until_closed(self, conn: psycopg.Connection[Any]) -> None:
        by_channel: dict[str, str] = {}  # channel -> hub id, on this connection
        while not self.heads.closed:
            listened = set(by_channel.values())
            new = [hub for hub in self.heads.watched() if hub not in listened]
            if new:
                by_channel.update(self._listen(conn, new))
                # After LISTEN: whatever committed before is in these heads,
                # whatever commits after is notified.
                self._read_heads(conn, new)
            # Drained to a list first: psycopg's notifies() holds the
            # connection's lock while it yields, and _notified may query.
            for note in list(conn.notifies(timeout=0)):
                self._notified(conn, by_channel.get(note.channel), note.payload)
            ready, _, _ = select.select([conn.fileno(), self._wake_r.fileno()], [], [])
            if self._wake_r.fileno() in ready:
                self._drain_wakeups()

    def _listen(self, conn: psycopg.Connection[Any], hub_ids: list[str]) -> dict[str, str]:
        channels = {}
        for hub_id in hub_ids:
            query = sa.select(channel(sa.literal(hub_id, sa.Text))).compile(
                dialect=self.database.engine.dialect
            )
            row = conn.execute(str(query), query.params).fetchone()
            assert row is not None
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(row[0])))
            channels[row[0]] = hub_id
        return channels

    def _read_heads(self, conn: psycopg.Connection[Any], hub_ids: Iterable[str]) -> None:
        rows = conn.execute(
            "SELECT hub_id, head FROM hublog_hubs WHERE hub_id = ANY(%s)", [list(hub_ids)]
        )
        for hub_id, head in rows:
            self.heads.raise_to(hub_id, head)

    def _notified(self, conn: psycopg.Connection[Any], hub_id: str | None, payload: str) -> None:
        if hub_id is None:
            return  # a channel we no longer know: not ours
        try:
            self.heads.raise_to(hub_id, int(payload))
        except ValueError:  # someone NOTIFYed our channel by hand: ask the table
            self._read_heads(conn, [hub_id])

    def _drain_wakeups(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass


class SQLiteChangeCheck(_Signalled):
    """One connection per store polls ``PRAGMA data_version`` while anyone waits."""

    name = "hublog-change-check"

    def __init__(self, database: Database, poll_interval: float, interval: float) -> None:
        super().__init__(database, poll_interval)
        self.interval = interval
        self.quiet_checks = round(QUIET_AFTER / interval)
        # Held around every statement on the connection: sqlite3 crashes the
        # process (a segfault, not an exception) when a connection is closed
        # by one thread while another runs a statement on it.
        self._using = threading.Lock()

    def _follow(self, connected: Callable[[], None]) -> None:
        conn: sqlite3.Connection = self._raw_connection()
        try:
            self.connection = conn
            connected()
            self._check_until_closed(conn)
        finally:
            with self._using:
                self.connection = None
                conn.close()

    def drop_connection(self) -> None:
        """Close the check's connection between two statements, as a lost
        connection would; the follower notices at its next check and
        reconnects (subscribers meanwhile fall back on the poll)."""
        with self._using:
            if self.connection is not None:
                self.connection.close()

    def _check_until_closed(self, conn: sqlite3.Connection) -> None:
        # The steady state runs up to 200 times a second: one PRAGMA on a
        # reused cursor and a sleep, no locks (a stale read of ``waiting`` or
        # of the number watched costs one more turn, nothing else).
        check = conn.cursor()
        version, read, quiet = None, 0, 0
        while not self.heads.closed:
            if not self.heads.waiting:
                self.heads.park()
            with self._using:
                # Never written through, so this number changes exactly when
                # another connection (of any process) has committed.
                now = check.execute("PRAGMA data_version").fetchone()[0]
                quiet = 0 if now != version else quiet + 1
                if now != version or len(self.heads) != read:
                    watched = self.heads.watched()
                    self._read_heads(conn, watched)
                    version, read = now, len(watched)
            time.sleep(self.interval * (QUIET_SLOWDOWN if quiet > self.quiet_checks else 1))

    def _read_heads(self, conn: sqlite3.Connection, hub_ids: list[str]) -> None:
        for start in range(0, len(hub_ids), 500):  # SQLite's bound-parameter limit
            chunk = hub_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT hub_id, head FROM hublog_hubs WHERE hub_id IN ({marks})"
            for hub_id, head in conn.execute(query, chunk):
                self.heads.raise_to(hub_id, head)


def follower_for(database: Database, settings: SQLSettings) -> Follower:
    """The store's follower: LISTEN on PostgreSQL, the change check on a
    SQLite file, the plain poll when turned off (or for ``:memory:``)."""
    if database.dialect == "postgresql" and settings.listen:
        return PostgresListener(database, settings.poll_interval)
    sqlite_file = database.engine.url.database not in (None, "", ":memory:")
    if database.dialect == "sqlite" and settings.change_check_interval > 0 and sqlite_file:
        return SQLiteChangeCheck(database, settings.poll_interval, settings.change_check_interval)
    return Follower(settings.poll_interval)
