"""The raw-driver reference on SQLite: the standard library's ``sqlite3`` and
msgspec, into tables of hublog's shape (the 0001 migration: the same
columns, primary keys, unique indexes and time index), in WAL mode with
``synchronous=FULL`` like hublog's default.  An append still takes its
positions and version from the hub and stream counters, in one transaction,
so the reference keeps the guarantees hublog pays for."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from eventstore.events import Event

from .data import LogEntry
from .shape import DECODERS, ddl, log_rows

PAGE = 500
UPSERT_HEAD = ("INSERT INTO hublog_hubs (hub_id, head) VALUES (?, ?) ON CONFLICT (hub_id) "
               "DO UPDATE SET head = head + excluded.head RETURNING head")  # fmt: skip
UPSERT_VERSION = ("INSERT INTO hublog_streams (hub_id, stream, version) VALUES (?, ?, ?) "
                  "ON CONFLICT (hub_id, stream) DO UPDATE SET version = version + excluded.version "
                  "RETURNING version")  # fmt: skip
INSERT = "INSERT INTO hublog_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
SELECT_PAGE = ("SELECT position, stream, version, event_id, type, data, recorded_at "
               "FROM hublog_events WHERE hub_id = ? AND position > ? ORDER BY position LIMIT ?")  # fmt: skip

_encode = msgspec.msgpack.Encoder().encode


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def create(conn: sqlite3.Connection) -> None:
    for statement in ddl("sqlite"):
        conn.execute(statement)


def append(conn: sqlite3.Connection, hub: str, stream: str, events: Sequence[Event]) -> None:
    """One transaction: advance head and version, insert the rows, commit."""
    n = len(events)
    at = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
    conn.execute("BEGIN IMMEDIATE")
    try:
        head = conn.execute(UPSERT_HEAD, (hub, n)).fetchone()[0]
        version = conn.execute(UPSERT_VERSION, (hub, stream, n)).fetchone()[0]
        rows = [
            (hub, head - n + i, stream, version - n + i, uuid.uuid4().hex,
             e.__struct_config__.tag, type(e).schema_version, _encode(e), at, None, None)
            for i, e in enumerate(events, start=1)
        ]  # fmt: skip
        if n == 1:
            conn.execute(INSERT, rows[0])
        else:
            conn.executemany(INSERT, rows)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def batched_append(conn: sqlite3.Connection, hub: str, pending: list[list[Event]]) -> float:
    started = time.perf_counter()
    for n, events in enumerate(pending):
        append(conn, hub, f"metrics/i{n}", events)
    return sum(map(len, pending)) / (time.perf_counter() - started)


def single_appends(conn: sqlite3.Connection, hub: str, pending: list[Event]) -> float:
    started = time.perf_counter()
    for event in pending:
        append(conn, hub, "metrics/single", [event])
    return len(pending) / (time.perf_counter() - started)


def read_all(conn: sqlite3.Connection, hub: str) -> int:
    """Keyset pages of 500 (as hublog reads), every payload decoded to its type."""
    after, count = 0, 0
    while True:
        page: list[Any] = conn.execute(SELECT_PAGE, (hub, after, PAGE)).fetchall()
        for row in page:
            DECODERS[row[4]].decode(row[5])
        count += len(page)
        if len(page) < PAGE:
            return count
        after = page[-1][0]


def fill(conn: sqlite3.Connection, hub: str, log: list[LogEntry]) -> None:
    """Write ``log`` as hub ``hub`` in one transaction (not timed)."""
    rows, versions = log_rows(hub, log)
    text_rows = [(*r[:4], r[4].hex, *r[5:8], r[8].replace(tzinfo=None).isoformat(" "), None, None)
                 for r in rows]  # fmt: skip
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(INSERT, text_rows)
    conn.execute(UPSERT_HEAD, (hub, len(rows))).fetchall()
    for stream, version in versions.items():
        conn.execute(UPSERT_VERSION, (hub, stream, version)).fetchall()
    conn.execute("COMMIT")
