"""The SQL import: events copied from another log, kept exactly as recorded.

One transaction per batch, under the same hub row lock an append takes
(:mod:`adapters.sql.append` step 1), so appends and imports to one hub are
serial and positions stay gap-free and commit-ordered:

1. lock the hub's row in ``hublog_hubs`` (an upsert adding 0) and read the head;
2. look up which event ids of the batch are already in the log (or were,
   before retention deleted them), the last
   event's ``recorded_at`` and the batch's stream versions;
3. decide with :func:`eventstore.importing.new_events` (skips what is here,
   raises on disagreement: the transaction rolls back, nothing written);
4. insert the new events and raise the head and the stream versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from eventstore.envelope import StoredEvent
from eventstore.importing import LogEnd, Place, new_events

from .engine import WRITE
from .schema import deleted_events, events, hubs, streams

LOOKUP_CHUNK = 500  # ids per IN (...): well under SQLite's bound-parameter limit


def import_events(engine: sa.Engine, hub_id: str, batch: Sequence[StoredEvent]) -> int:
    """Import ``batch`` in one write transaction; see the module docstring.

    Raises: DuplicateEventError when the log disagrees (rolled back).
    """
    with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
        head = _lock_hub(conn, hub_id)
        names = sorted({e.stream for e in batch})
        end = LogEnd(head, _last_recorded_at(conn, hub_id), _versions(conn, hub_id, names))
        fresh = new_events(batch, _written(conn, hub_id, batch), end)
        if not fresh:
            return 0
        conn.execute(events.insert(), [_row(e) for e in fresh])
        conn.execute(hubs.update().where(hubs.c.hub_id == hub_id).values(head=end.head))
        _set_versions(conn, hub_id, {e.stream: end.versions[e.stream] for e in fresh})
    return len(fresh)


def _insert(conn: sa.Connection, table: sa.Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def _lock_hub(conn: sa.Connection, hub_id: str) -> int:
    stmt = (
        _insert(conn, hubs)
        .values(hub_id=hub_id, head=0)
        .on_conflict_do_update(index_elements=[hubs.c.hub_id], set_={"head": hubs.c.head})
        .returning(hubs.c.head)
    )
    head: int = conn.execute(stmt).scalar_one()
    return head


def _last_recorded_at(conn: sa.Connection, hub_id: str) -> datetime | None:
    query = (
        sa.select(events.c.recorded_at)
        .where(events.c.hub_id == hub_id)
        .order_by(events.c.position.desc())
        .limit(1)
    )
    return conn.scalar(query)


def _versions(conn: sa.Connection, hub_id: str, names: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(names), LOOKUP_CHUNK):
        query = sa.select(streams.c.stream, streams.c.version).where(
            streams.c.hub_id == hub_id, streams.c.stream.in_(names[start : start + LOOKUP_CHUNK])
        )
        found.update((row.stream, row.version) for row in conn.execute(query))
    return found


def _written(conn: sa.Connection, hub_id: str, batch: Sequence[StoredEvent]) -> dict[UUID, Place]:
    """Where the batch's ids are in the log, or were before retention deleted them."""
    ids = [e.event_id for e in batch]
    found: dict[UUID, Place] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        query = sa.union_all(
            *(
                sa.select(t.c.event_id, t.c.stream, t.c.version, t.c.position).where(
                    t.c.hub_id == hub_id, t.c.event_id.in_(chunk)
                )
                for t in (events, deleted_events)
            )
        )
        found.update((r.event_id, (r.stream, r.version, r.position)) for r in conn.execute(query))
    return found


def _set_versions(conn: sa.Connection, hub_id: str, versions: dict[str, int]) -> None:
    stmt = _insert(conn, streams)
    stmt = stmt.on_conflict_do_update(
        index_elements=[streams.c.hub_id, streams.c.stream],
        set_={"version": stmt.excluded.version},
    )
    conn.execute(stmt, [{"hub_id": hub_id, "stream": s, "version": v} for s, v in versions.items()])


def _row(event: StoredEvent) -> dict[str, Any]:
    return {
        "hub_id": event.hub_id,
        "position": event.position,
        "stream": event.stream,
        "version": event.version,
        "event_id": event.event_id,
        "type": event.type,
        "schema_version": event.schema_version,
        "data": event.data,
        "recorded_at": event.recorded_at,
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
    }
