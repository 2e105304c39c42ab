"""The raw-driver reference on PostgreSQL: psycopg 3 and msgspec, into tables
of hublog's shape (see :mod:`.shape`).  A batch advances the hub's head and
the stream's version and writes its rows in one transaction — by binary
COPY, or by ``executemany`` (pipeline mode); a single event is one statement
(the two counter upserts as CTEs feeding the insert): one round trip, the
floor for an append that keeps positions gap-free."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

import msgspec
import psycopg

from eventstore.events import Event

from .data import LogEntry
from .shape import DECODERS, ddl, log_rows

PAGE = 500
COLUMNS = ("hub_id, position, stream, version, event_id, type, schema_version, data, "
           "recorded_at, correlation_id, causation_id")  # fmt: skip
COPY_TYPES = ["varchar", "int8", "varchar", "int8", "uuid", "varchar", "int4", "bytea",
              "timestamptz", "varchar", "varchar"]  # fmt: skip
UPSERT_HEAD = ("INSERT INTO hublog_hubs (hub_id, head) VALUES (%s, %s) ON CONFLICT (hub_id) "
               "DO UPDATE SET head = hublog_hubs.head + excluded.head "
               "RETURNING head, clock_timestamp()")  # fmt: skip
UPSERT_VERSION = ("INSERT INTO hublog_streams (hub_id, stream, version) VALUES (%s, %s, %s) "
                  "ON CONFLICT (hub_id, stream) DO UPDATE "
                  "SET version = hublog_streams.version + excluded.version RETURNING version")  # fmt: skip
INSERT = f"INSERT INTO hublog_events ({COLUMNS}) VALUES ({', '.join(['%s'] * 11)})"
APPEND_ONE = f"""
WITH h AS (INSERT INTO hublog_hubs (hub_id, head) VALUES (%(hub)s, 1) ON CONFLICT (hub_id)
           DO UPDATE SET head = hublog_hubs.head + 1 RETURNING head, clock_timestamp() AS at),
     s AS (INSERT INTO hublog_streams (hub_id, stream, version) VALUES (%(hub)s, %(stream)s, 1)
           ON CONFLICT (hub_id, stream) DO UPDATE SET version = hublog_streams.version + 1
           RETURNING version)
INSERT INTO hublog_events ({COLUMNS})
SELECT %(hub)s, h.head, %(stream)s, s.version, %(id)s, %(type)s, %(sv)s, %(data)s, h.at, NULL, NULL
FROM h, s"""
SELECT_PAGE = ("SELECT position, stream, version, event_id, type, data, recorded_at "
               "FROM hublog_events WHERE hub_id = %s AND position > %s ORDER BY position LIMIT %s")  # fmt: skip

_encode = msgspec.msgpack.Encoder().encode


def connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=True)


def create(conn: psycopg.Connection[Any]) -> None:
    for statement in ddl("postgresql"):
        conn.execute(statement)


def append(conn: psycopg.Connection[Any], hub: str, stream: str, events: Sequence[Event],
           *, copy: bool) -> None:  # fmt: skip
    n = len(events)
    with conn.transaction():
        head, at = conn.execute(UPSERT_HEAD, (hub, n)).fetchone()  # type: ignore[misc]
        (version,) = conn.execute(UPSERT_VERSION, (hub, stream, n)).fetchone()  # type: ignore[misc]
        rows = [
            (hub, head - n + i, stream, version - n + i, uuid.uuid4(), e.__struct_config__.tag,
             type(e).schema_version, _encode(e), at, None, None)
            for i, e in enumerate(events, start=1)
        ]  # fmt: skip
        write_rows(conn, rows, copy=copy)


def write_rows(conn: psycopg.Connection[Any], rows: list[tuple[Any, ...]], *, copy: bool) -> None:
    with conn.cursor() as cur:
        if not copy:
            cur.executemany(INSERT, rows)
            return
        with cur.copy(f"COPY hublog_events ({COLUMNS}) FROM STDIN (FORMAT BINARY)") as out:
            out.set_types(COPY_TYPES)
            for row in rows:
                out.write_row(row)


def batched_append(conn: psycopg.Connection[Any], hub: str, pending: list[list[Event]],
                   *, copy: bool) -> float:  # fmt: skip
    started = time.perf_counter()
    for n, events in enumerate(pending):
        append(conn, hub, f"metrics/i{n}", events, copy=copy)
    return sum(map(len, pending)) / (time.perf_counter() - started)


def append_one(conn: psycopg.Connection[Any], hub: str, stream: str, event: Event) -> None:
    params = {"hub": hub, "stream": stream, "id": uuid.uuid4(), "type": event.__struct_config__.tag,
              "sv": type(event).schema_version, "data": _encode(event)}  # fmt: skip
    conn.execute(APPEND_ONE, params)


def single_appends(conn: psycopg.Connection[Any], hub: str, pending: list[Event]) -> float:
    started = time.perf_counter()
    for event in pending:
        append_one(conn, hub, "metrics/single", event)
    return len(pending) / (time.perf_counter() - started)


def read_all(conn: psycopg.Connection[Any], hub: str) -> int:
    """Keyset pages of 500 in binary format, every payload decoded to its type."""
    after, count = 0, 0
    with conn.cursor(binary=True) as cur:
        while True:
            page = cur.execute(SELECT_PAGE, (hub, after, PAGE)).fetchall()
            for row in page:
                DECODERS[row[4]].decode(row[5])
            count += len(page)
            if len(page) < PAGE:
                return count
            after = page[-1][0]


def fill(conn: psycopg.Connection[Any], hub: str, log: list[LogEntry]) -> None:
    """Write ``log`` as hub ``hub`` in one transaction (not timed)."""
    rows, versions = log_rows(hub, log)
    with conn.transaction():
        write_rows(conn, [(*r, None, None) for r in rows], copy=True)
        conn.execute(UPSERT_HEAD, (hub, len(rows)))
        for stream, version in versions.items():
            conn.execute(UPSERT_VERSION, (hub, stream, version))
