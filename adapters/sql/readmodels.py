"""Read models in SQLite and PostgreSQL: checkpoints, rows and snapshots.

Exactly-once: a commit is one transaction that first takes the checkpoint
row's lock (an upsert that leaves it as it is, as :mod:`.append` does for a
hub's head; on SQLite ``BEGIN IMMEDIATE`` holds the database's write lock
anyway), checks that the checkpoint is where the batch started, writes the
rows and moves the checkpoint.  A crash before COMMIT leaves nothing; after
it, everything.

The tables are made by ``alembic/versions/0002_read_models.py`` and declared
in :mod:`.schema` with the log's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import anyio
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from eventstore.errors import StoreClosed
from projections.readmodel_store import Checkpoint, Commit, ReadModelStore, Snapshot, decide

from . import migrations
from .engine import WRITE, Database
from .schema import checkpoints, rows, snapshots
from .settings import SQLSettings
from .statements import placeholders

T = TypeVar("T")


class SQLReadModelStore(ReadModelStore):
    """Read models in the database of a SQL event store.

    Args:
        engine_or_url: an Engine (left open by :meth:`close`; pass the event
            store's ``engine`` to share its pool) or a store URL.
        where: how messages name the database (default: the URL, redacted;
            for an Engine, its URL with SQLAlchemy's driver in the scheme).
    """

    def __init__(self, engine_or_url: sa.Engine | str, *, where: str | None = None) -> None:
        self.database = Database.of(
            engine_or_url
            if isinstance(engine_or_url, sa.Engine)
            else SQLSettings.from_url(engine_or_url)
        )
        if where is not None:
            self.database = replace(self.database, where=where)
        self.engine, self.where, self.dialect = (
            self.database.engine,
            self.database.where,
            self.database.dialect,
        )
        self._insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        self._checked = False
        self._closed = False

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self.database.owned:
                await anyio.to_thread.run_sync(self.engine.dispose)

    # --- the commit -----------------------------------------------------------

    async def commit(self, commit: Commit) -> bool:
        return await self._run(self._commit_sync, commit)

    def _commit_sync(self, commit: Commit) -> bool:
        with self.engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            stored = self._lock_checkpoint(conn, commit)
            if not decide(commit, stored):  # raises CheckpointConflict: rolled back
                return False
            self._write(conn, commit)
        return True

    def _lock_checkpoint(self, conn: sa.Connection, commit: Commit) -> int:
        """Lock the checkpoint row (creating it at 0) and return its position."""
        stmt = self._insert(checkpoints).values(
            projection=commit.projection,
            hub_id=commit.hub_id,
            position=0,
            fingerprint=commit.fingerprint,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[checkpoints.c.projection, checkpoints.c.hub_id],
            set_={"position": checkpoints.c.position},
        )
        return conn.execute(stmt.returning(checkpoints.c.position)).scalar_one()

    def _write(self, conn: sa.Connection, commit: Commit) -> None:
        """Everything a commit changes, inside its transaction.  The row
        statements are driver SQL with tuples (:data:`_ROW_SQL`): a rebuild
        writes hundreds of rows per commit, and SQLAlchemy's per-row parameter
        processing used to be most of its cost."""
        p, h = commit.projection, commit.hub_id
        sql = _ROW_SQL[self.dialect]
        if commit.ranges:
            conn.exec_driver_sql(sql["range"], [(p, h, t, lo, hi) for t, lo, hi in commit.ranges])
        deletes = [(p, h, t, k) for t, k, data in commit.writes if data is None]
        if deletes:
            conn.exec_driver_sql(sql["delete"], deletes)
        puts = [(p, h, t, k, data) for t, k, data in commit.writes if data is not None]
        if puts:
            conn.exec_driver_sql(sql["put"], puts)
        conn.execute(
            checkpoints.update()
            .where(checkpoints.c.projection == p, checkpoints.c.hub_id == h)
            .values(position=commit.position, fingerprint=commit.fingerprint)
        )
        if commit.snapshot is not None:
            snap = self._insert(snapshots).values(
                projection=p,
                hub_id=h,
                position=commit.position,
                fingerprint=commit.fingerprint,
                data=commit.snapshot,
            )
            conn.execute(snap.on_conflict_do_nothing())

    # --- reads ----------------------------------------------------------------

    async def checkpoint(self, projection: str, hub_id: str) -> Checkpoint | None:
        query = sa.select(checkpoints.c.position, checkpoints.c.fingerprint).where(
            checkpoints.c.projection == projection, checkpoints.c.hub_id == hub_id
        )
        row = await self._run(self._one, query)
        return None if row is None else Checkpoint(row.position, row.fingerprint)

    async def get(self, projection: str, hub_id: str, table: str, key: str) -> bytes | None:
        query = sa.select(rows.c.data).where(
            *_model(projection, hub_id), rows.c.table_name == table, rows.c.row_key == key
        )
        row = await self._run(self._one, query)
        return None if row is None else bytes(row.data)

    async def scan(
        self,
        projection: str,
        hub_id: str,
        table: str,
        *,
        start: str | None = None,
        stop: str | None = None,
        limit: int | None = None,
    ) -> list[tuple[str, bytes]]:
        query = (
            sa.select(rows.c.row_key, rows.c.data)
            .where(*_model(projection, hub_id), rows.c.table_name == table)
            .order_by(rows.c.row_key)
        )
        if start is not None:
            query = query.where(rows.c.row_key >= start)
        if stop is not None:
            query = query.where(rows.c.row_key < stop)
        if limit is not None:
            query = query.limit(limit)
        found = await self._run(self._all, query)
        return [(r.row_key, bytes(r.data)) for r in found]

    async def find(self, projection: str, table: str, key: str) -> list[tuple[str, bytes]]:
        query = (
            sa.select(rows.c.hub_id, rows.c.data)
            .where(
                rows.c.projection == projection, rows.c.table_name == table, rows.c.row_key == key
            )
            .order_by(rows.c.hub_id)
        )
        return [(r.hub_id, bytes(r.data)) for r in await self._run(self._all, query)]

    async def tables(self, projection: str, hub_id: str) -> list[str]:
        query = (
            sa.select(rows.c.table_name)
            .where(*_model(projection, hub_id))
            .distinct()
            .order_by(rows.c.table_name)
        )
        return [r.table_name for r in await self._run(self._all, query)]

    async def hubs(self, projection: str) -> list[str]:
        query = (
            sa.select(checkpoints.c.hub_id)
            .where(checkpoints.c.projection == projection, checkpoints.c.position > 0)
            .order_by(checkpoints.c.hub_id)
        )
        return [r.hub_id for r in await self._run(self._all, query)]

    async def snapshot(
        self, projection: str, hub_id: str, *, at_or_before: int | None = None
    ) -> Snapshot | None:
        query = (
            sa.select(snapshots.c.position, snapshots.c.fingerprint, snapshots.c.data)
            .where(snapshots.c.projection == projection, snapshots.c.hub_id == hub_id)
            .order_by(snapshots.c.position.desc())
            .limit(1)
        )
        if at_or_before is not None:
            query = query.where(snapshots.c.position <= at_or_before)
        row = await self._run(self._one, query)
        return None if row is None else Snapshot(row.position, row.fingerprint, bytes(row.data))

    async def drop(self, projection: str, hub_id: str) -> None:
        await self._run(self._drop_sync, projection, hub_id)

    def _drop_sync(self, projection: str, hub_id: str) -> None:
        with self.engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            for table in (rows, snapshots, checkpoints):
                conn.execute(
                    table.delete().where(table.c.projection == projection, table.c.hub_id == hub_id)
                )

    # --- plumbing -------------------------------------------------------------

    def _one(self, query: sa.Select[Any]) -> sa.Row[Any] | None:
        with self.engine.connect() as conn:
            return conn.execute(query).first()

    def _all(self, query: sa.Select[Any]) -> list[sa.Row[Any]]:
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise StoreClosed(f"SQLReadModelStore at {self.where} is closed")
        if not self._checked:
            await anyio.to_thread.run_sync(self._translated, self._check_schema)
            self._checked = True
        return await anyio.to_thread.run_sync(self._translated, fn, *args)

    def _check_schema(self) -> None:
        with self.engine.connect() as conn:
            migrations.check(conn, self.where)

    def _translated(self, fn: Callable[..., T], *args: Any) -> T:
        return self.database.call(fn, *args)


def _row_sql(dialect: str) -> dict[str, str]:
    mine = "projection = ? AND hub_id = ? AND table_name = ?"
    sql = {
        "range": f"DELETE FROM hublog_readmodel_rows WHERE {mine} AND row_key >= ? AND row_key < ?",
        "delete": f"DELETE FROM hublog_readmodel_rows WHERE {mine} AND row_key = ?",
        "put": "INSERT INTO hublog_readmodel_rows (projection, hub_id, table_name, row_key, data) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (projection, hub_id, table_name, row_key) "
        "DO UPDATE SET data = excluded.data",
    }
    return {k: placeholders(dialect, v) for k, v in sql.items()}


_ROW_SQL = {dialect: _row_sql(dialect) for dialect in ("sqlite", "postgresql")}


def _model(projection: str, hub_id: str) -> tuple[sa.ColumnElement[bool], ...]:
    return rows.c.projection == projection, rows.c.hub_id == hub_id
