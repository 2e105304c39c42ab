"""SQLite: one connection per store reads ``PRAGMA data_version`` while a
subscriber waits, and reads the watched heads when it changes
(:class:`SQLiteChangeCheck`)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable

from ..engine import Database
from .base import Signalled

QUIET_AFTER, QUIET_SLOWDOWN = 1.0, 4
"""After this many seconds without a commit the SQLite change check runs
this many times less often (5 ms -> 20 ms), until the next commit: an idle
subscriber then costs a quarter of the wake-ups."""


class SQLiteChangeCheck(Signalled):
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
