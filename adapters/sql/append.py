"""The SQL append: one round trip on PostgreSQL, one transaction of three
statements on SQLite, correct in every case.

The steps, in this order:

1. ``hublog_hubs``: add n to the hub's head (an upsert).  This takes the hub's
   row lock, held to commit, and returns the new head: positions are
   head-n+1 … head.  On PostgreSQL the same step notifies the hub's channel
   with the new head, for subscribers in other processes.
2. ``hublog_streams``: add n to the stream's version (an upsert) and return it.
3. If the version before (new - n) is not the expected one, or an id of the
   batch is one of a deleted event (``hublog_deleted_events``), this may be a
   retry of a batch that was written: look its ids up (deleted ones too) and
   answer as a retry, or raise WrongExpectedVersion.  Either way the
   increments roll back.
4. Insert the events, stamped with the clock but never earlier than the
   hub's last event (a clock that steps back must not break position_at's
   bisection).  A unique violation on (hub_id, event_id) means some id is
   written already: the caller rolls back and asks :func:`answer_retry`.
5. Commit.

On PostgreSQL, :func:`append_in_one` sends all of it as one autocommitted
statement: steps 1–3 and the clock are the server-side function
``hublog_advance`` (alembic/versions/0003, 0004), which raises on a version
mismatch or a deleted id, and the insert selects from it.  Anything but
success there (a mismatch, an id already written or deleted) rolls the
statement back whole and is answered by :func:`append`,
the same steps one by one in a transaction, which knows retries.

Writers of one hub queue on step 1, so each reads the head only after the
previous one committed (PostgreSQL makes a commit visible before releasing
its locks) and a rollback leaves no gap.  Both upserts work on the latest
committed row even after waiting for a lock, so no stale value is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from eventstore.backend import (
    Expected,
    check_expected_version,
    expected_version_matches,
    resolve_retry,
)
from eventstore.envelope import ANY, NO_STREAM, AppendResult, NewEvent
from eventstore.store import SAMPLE_TYPE

from . import rows, statements
from .follow import notify
from .schema import deleted_events, events, hubs, streams


class _Answered(Exception):
    """Leave the transaction (rolling it back) with an answer for the caller."""

    def __init__(self, result: AppendResult) -> None:
        self.result = result


def append(
    conn: sa.Connection, hub_id: str, stream: str, batch: Sequence[NewEvent], expected: Expected
) -> AppendResult:
    """Append inside a new transaction on ``conn``; see the module docstring.

    Raises: WrongExpectedVersion, DuplicateEventError, sa.exc.IntegrityError
    (an id already written: call :func:`answer_retry`).
    """
    n = len(batch)
    try:
        with conn.begin():
            head, clock = _add_to_head(conn, hub_id, n)
            version = _add_to_version(conn, hub_id, stream, n)
            matches = expected_version_matches(expected, version - n)
            if not matches or _any_deleted(conn, hub_id, batch):
                retried = resolve_retry(hub_id, stream, batch, written_ids(conn, hub_id, batch))
                if retried is not None:
                    raise _Answered(retried)
                check_expected_version(hub_id, stream, expected, version - n)
            recorded_at = not_before_last_event(conn, hub_id, clock)
            _insert_events(conn, hub_id, stream, batch, head - n, version - n, recorded_at)
    except _Answered as answered:
        return answered.result
    return AppendResult(version, head - n + 1, head)


def append_in_one(
    conn: sa.Connection, hub_id: str, stream: str, batch: Sequence[NewEvent], expected: Expected
) -> AppendResult | None:
    """PostgreSQL: the whole append as one statement on an autocommitting
    ``conn``; None when it did not write (a version mismatch or an id written
    already: nothing was changed, ask :func:`append`)."""
    wanted = -1 if expected is ANY else 0 if expected is NO_STREAM else int(expected)  # type: ignore[arg-type]
    n = len(batch)
    params = (
        hub_id, stream, n, wanted, [e.event_id for e in batch], hub_id, n, stream, n,
        [e.event_id for e in batch], [e.type for e in batch],
        [e.schema_version for e in batch], [e.data for e in batch],
        [e.correlation_id for e in batch], [e.causation_id for e in batch],
    )  # fmt: skip
    try:
        written = conn.exec_driver_sql(statements.POSTGRES_APPEND, params).all()
    except sa.exc.IntegrityError:
        return None
    except sa.exc.DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) in (statements.WRONG_VERSION, statements.DELETED_ID):
            return None
        raise
    positions = [row[0] for row in written]
    return AppendResult(max(row[1] for row in written), min(positions), max(positions))


def answer_retry(
    conn: sa.Connection, hub_id: str, stream: str, batch: Sequence[NewEvent]
) -> AppendResult | None:
    """What an append whose ids are (partly) written returns; under the hub's lock.

    Raises: DuplicateEventError for a batch only partly written.
    """
    with conn.begin():
        _add_to_head(conn, hub_id, 0)
        return resolve_retry(hub_id, stream, batch, written_ids(conn, hub_id, batch))


def written_ids(
    conn: sa.Connection, hub_id: str, batch: Sequence[NewEvent]
) -> list[tuple[Any, ...]]:
    """(event_id, stream, version, position) of the batch's ids in the log,
    or deleted from it: a deleted event's id stays known."""
    ids = [e.event_id for e in batch]
    found = sa.union_all(
        *(
            sa.select(t.c.event_id, t.c.stream, t.c.version, t.c.position)
            .where(t.c.hub_id == hub_id)
            .where(t.c.event_id.in_(ids))
            for t in (events, deleted_events)
        )
    )
    return [tuple(row) for row in conn.execute(found)]


def _any_deleted(conn: sa.Connection, hub_id: str, batch: Sequence[NewEvent]) -> bool:
    """Driver SQL, ids in their stored format: it runs on SQLite appends.
    Only samples are ever deleted, so a batch of none needs no lookup."""
    samples = [e for e in batch if e.type == SAMPLE_TYPE]
    if not samples:
        return False
    sqlite = conn.dialect.name != "postgresql"
    ids = [statements.sqlite_id(e.event_id) if sqlite else e.event_id for e in samples]
    sql = statements.any_deleted(conn.dialect.name, len(ids))
    return conn.exec_driver_sql(sql, (hub_id, *ids)).first() is not None


def not_before_last_event(conn: sa.Connection, hub_id: str, clock: datetime) -> datetime:
    """``clock``, or the hub's last event's recorded_at if that is later: a
    clock that steps back (NTP, a restored VM, another server) must not
    record an event before the one it follows.  Read under the hub's lock,
    in a statement of its own, so it sees the previous writer's commit.
    A damaged last time (not a time, infinite) is passed over."""
    sql = statements.last_recorded_at(conn.dialect.name)
    last = rows.readable_time(conn.exec_driver_sql(sql, (hub_id,)).scalar())
    return clock if last is None or last <= clock else last


def _add_to_head(conn: sa.Connection, hub_id: str, n: int) -> tuple[int, datetime]:
    """Lock the hub's row, add n to its head; return the new head and the clock."""
    if conn.dialect.name != "postgresql":
        head = conn.exec_driver_sql(statements.SQLITE_ADD_TO_HEAD, (hub_id, n)).scalar_one()
        return head, datetime.now(UTC)
    stmt = (
        postgresql.insert(hubs)
        .values(hub_id=hub_id, head=n)
        .on_conflict_do_update(index_elements=[hubs.c.hub_id], set_={"head": hubs.c.head + n})
    )
    # clock_timestamp(), not now(): the time once the lock is ours, so
    # recorded_at follows position order within a hub.
    advanced = stmt.returning(
        hubs.c.hub_id, hubs.c.head, sa.func.clock_timestamp().label("clock")
    ).cte("advanced")
    # The same statement tells subscribers (adapters/sql/follow.py); the
    # server delivers the NOTIFY at commit, and never for a rollback.
    query = sa.select(advanced.c.head, advanced.c.clock, notify(advanced.c.hub_id, advanced.c.head))
    head, clock, _ = conn.execute(query).one()
    return head, clock.astimezone(UTC)


def _add_to_version(conn: sa.Connection, hub_id: str, stream: str, n: int) -> int:
    if conn.dialect.name != "postgresql":
        sql, params = statements.SQLITE_ADD_TO_VERSION, (hub_id, stream, n)
        return int(conn.exec_driver_sql(sql, params).scalar_one())
    stmt = (
        postgresql.insert(streams)
        .values(hub_id=hub_id, stream=stream, version=n)
        .on_conflict_do_update(
            index_elements=[streams.c.hub_id, streams.c.stream],
            set_={"version": streams.c.version + n},
        )
        .returning(streams.c.version)
    )
    return conn.execute(stmt).scalar_one()


def _insert_events(
    conn: sa.Connection,
    hub_id: str,
    stream: str,
    batch: Sequence[NewEvent],
    head: int,
    version: int,
    recorded_at: datetime,
) -> None:
    """The rows at positions head+1… and versions version+1…, as tuples
    straight to the driver's executemany (in the columns' stored formats)."""
    sqlite = conn.dialect.name != "postgresql"
    at: datetime | str = statements.sqlite_time(recorded_at) if sqlite else recorded_at

    def event_id(e: NewEvent) -> UUID | str:
        return statements.sqlite_id(e.event_id) if sqlite else e.event_id

    sql = statements.placeholders(conn.dialect.name, statements.INSERT_EVENTS)
    conn.exec_driver_sql(sql, [
        (hub_id, head + i, stream, version + i, event_id(e), e.type, e.schema_version, e.data,
         at, e.correlation_id, e.causation_id)
        for i, e in enumerate(batch, start=1)
    ])  # fmt: skip
