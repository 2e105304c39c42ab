"""The hot statements of the SQL event store, as SQL text written once.

The append and the page reads run thousands of times a second: built as
SQLAlchemy Core objects they were compiled, and every parameter and result
value passed through a Python type processor, on every call.  Here they are
plain driver SQL (``Connection.exec_driver_sql``: SQLAlchemy's error handling
and events, no compilation, tuples straight to the driver's executemany).
Values are bound in the stored formats of :mod:`.schema`'s columns: on
SQLite the event id as 32 hex digits and the time as naive UTC text, the
formats SQLAlchemy's ``Uuid`` and ``DateTime`` use, so rows written either
way read alike.  A test compares these statements' columns with the schema.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from uuid import UUID

EVENT_COLUMNS = (
    "hub_id, position, stream, version, event_id, type, schema_version, data, "
    "recorded_at, correlation_id, causation_id"
)

# --- the append's three statements on SQLite (adapters/sql/append.py) --------

SQLITE_ADD_TO_HEAD = (
    "INSERT INTO hublog_hubs (hub_id, head) VALUES (?, ?) "
    "ON CONFLICT (hub_id) DO UPDATE SET head = head + excluded.head RETURNING head"
)
SQLITE_ADD_TO_VERSION = (
    "INSERT INTO hublog_streams (hub_id, stream, version) VALUES (?, ?, ?) "
    "ON CONFLICT (hub_id, stream) DO UPDATE SET version = version + excluded.version "
    "RETURNING version"
)
INSERT_EVENTS = f"INSERT INTO hublog_events ({EVENT_COLUMNS}) VALUES ({', '.join('?' * 11)})"
"""Both dialects (PostgreSQL's fallback path too, with :func:`placeholders`)."""


def sqlite_id(event_id: UUID) -> str:
    return event_id.hex


def sqlite_time(at: datetime) -> str:
    """Naive UTC text with microseconds, as SQLAlchemy's SQLite DateTime stores it
    (``position_at`` compares these strings, so the format must not vary)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# --- PostgreSQL: the append as one statement (alembic/versions/0003) ---------

POSTGRES_APPEND = f"""\
INSERT INTO hublog_events ({EVENT_COLUMNS})
WITH advanced AS MATERIALIZED (SELECT * FROM hublog_advance(%s, %s, %s, %s, %s::uuid[]))
SELECT %s, a.head - %s + e.ord, %s, a.version - %s + e.ord, e.event_id, e.type,
       e.schema_version, e.data, a.clock, e.correlation_id, e.causation_id
FROM advanced AS a,
     unnest(%s::uuid[], %s::text[], %s::int[], %s::bytea[], %s::text[], %s::text[])
     WITH ORDINALITY AS e(event_id, type, schema_version, data, correlation_id,
                          causation_id, ord)
RETURNING position, version"""
"""The head and version step (hublog_advance: lock, notify, expected-version
and deleted-id checks, the clock) and the insert, in one round trip; the
text starts as every event insert does, so tools that watch for it still
see it."""

WRONG_VERSION = "HL409"
"""The SQLSTATE hublog_advance raises for a version other than the expected."""
DELETED_ID = "HL410"
"""The SQLSTATE hublog_advance raises for an id of a deleted event (a retry)."""

# --- the clock: never before the hub's last event (adapters/sql/append.py) ---


@functools.cache
def any_deleted(dialect: str, n: int) -> str:
    """One row if any of n event ids is of a deleted event of the hub.

    Parameters: hub_id, then the n ids.
    """
    ids = ", ".join("?" * n)
    sql = f"SELECT 1 FROM hublog_deleted_events WHERE hub_id = ? AND event_id IN ({ids}) LIMIT 1"
    return placeholders(dialect, sql)


def last_recorded_at(dialect: str) -> str:
    """The hub's last event's recorded_at (by position: one primary-key probe);
    on PostgreSQL an infinite one reads as NULL (psycopg would refuse it).

    Parameters: hub_id.
    """
    at = (
        "recorded_at"
        if dialect == "sqlite"
        else f"CASE WHEN {_IN_PYTHON_RANGE} THEN recorded_at END"
    )
    sql = f"SELECT {at} FROM hublog_events WHERE hub_id = ? ORDER BY position DESC LIMIT 1"
    return placeholders(dialect, sql)


# --- the page reads (both dialects) ------------------------------------------


@functools.cache
def select_page(dialect: str, by: str, *, backwards: bool = False, bounded: bool = False) -> str:
    """A page of events ``by`` position (the log) or version (a stream), in
    the column order :func:`adapters.sql.rows.page` reads.

    Parameters: hub_id, [stream], after, [before], limit.
    """
    data = "CAST(data AS BLOB)" if dialect == "sqlite" else "data"
    where = (
        "hub_id = ? AND position > ?"
        if by == "position"
        else "hub_id = ? AND stream = ? AND version > ?"
    )
    if bounded:
        where += " AND version < ?"
    sql = (
        "SELECT hub_id, stream, version, position, event_id, type, schema_version, "
        f"{data}, recorded_at, correlation_id, causation_id FROM hublog_events "
        f"WHERE {where} ORDER BY {by}{' DESC' if backwards else ''} LIMIT ?"
    )
    return placeholders(dialect, sql)


# The times a Python datetime can hold: psycopg refuses ±infinity and years
# past 9999 or before 1 alike, failing the whole fetch (BETWEEN is false for
# both infinities).
_IN_PYTHON_RANGE = (
    "recorded_at BETWEEN '0001-01-01 00:00:00+00' AND '9999-12-31 23:59:59.999999+00'"
)


def robust_page(dialect: str, sql: str) -> str:
    """The same page with PostgreSQL's times that Python cannot hold (±infinity,
    years past 9999 or before 1) read as NULL (psycopg refuses them, failing
    the whole fetch): the fallback for a page the fast read could not load."""
    if dialect != "postgresql":
        return sql
    return sql.replace(" recorded_at,", f" CASE WHEN {_IN_PYTHON_RANGE} THEN recorded_at END,", 1)


def placeholders(dialect: str, sql: str) -> str:
    return sql.replace("?", "%s") if dialect == "postgresql" else sql
