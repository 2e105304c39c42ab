"""Isolated data for one run: a temporary directory for the SQLite files, one
fresh PostgreSQL schema per side and purpose (dropped at the end), and a
Redis key prefix of the run's own (its keys deleted at the end; never
FLUSHALL a shared server)."""

from __future__ import annotations

import os
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Self

import psycopg
import redis

PG_ADMIN = os.environ.get("HUBLOG_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HUBLOG_BENCH_REDIS", "redis://127.0.0.1:6379/0")


class Places:
    """Where each side of each figure keeps its data; use as a context manager."""

    def __init__(self) -> None:
        self.run = uuid.uuid4().hex[:8]
        self._stack = ExitStack()
        self._schemas: list[str] = []
        self.tmp = Path(
            self._stack.enter_context(tempfile.TemporaryDirectory(prefix="hublog-bench-"))
        )
        self.redis_prefix = f"hublog-bench-{self.run}"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sqlite_path(self, name: str) -> str:
        return str(self.tmp / f"{name}.db")

    def schema(self, name: str) -> str:
        """A new, empty PostgreSQL schema, dropped by :meth:`close`."""
        schema = f"hublog_bench_{self.run}_{name}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        self._schemas.append(schema)
        return schema

    def pg_url(self, schema: str) -> str:
        return f"{PG_ADMIN}?options=-csearch_path%3D{schema}"

    def hublog_pg_url(self, name: str = "hublog") -> str:
        """A fresh schema migrated by hublog's own migrations; its store URL."""
        from adapters.sql import create_engine, migrations

        url = self.pg_url(self.schema(name))
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                migrations.upgrade(conn)
        finally:
            engine.dispose()
        return url

    def hublog_redis_url(self, name: str = "hublog") -> str:
        return f"{REDIS_URL}?key_prefix={self.redis_prefix}:{name}"

    def raw_redis_key(self, hub: str) -> str:
        return f"{self.redis_prefix}:raw:{hub}"

    def close(self) -> None:
        if self._schemas:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                for schema in self._schemas:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            self._schemas.clear()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{self.redis_prefix}*", count=1000):
            client.delete(key)
        client.close()
        self._stack.close()
