"""PostgreSQL: appends NOTIFY the hub's channel with its new head, and one
LISTEN connection per store hears it (:class:`PostgresListener`)."""

from __future__ import annotations

import select
import socket
from collections.abc import Callable, Iterable
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.dialects import postgresql

from ..engine import Database
from ..schema import hubs
from .base import Signalled


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


class PostgresListener(Signalled):
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
