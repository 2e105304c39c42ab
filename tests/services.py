"""The servers tests talk to, and what to do when one is missing.

On a developer's laptop a missing server skips its tests with a message
naming it and how to start it; with ``HUBLOG_REQUIRE_SERVICES=1`` (CI) a
missing server fails the test instead.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG_ADMIN_URL = os.environ.get("HUBLOG_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HUBLOG_TEST_REDIS", "redis://127.0.0.1:6379/0")

HOW_TO_START = {
    "postgresql": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "redis": "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' "
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log",
}


def services_required() -> bool:
    return os.environ.get("HUBLOG_REQUIRE_SERVICES", "") not in ("", "0")


def need(service: str, problem: str | None) -> None:
    """Skip (or, in CI, fail) the current test when ``problem`` is set."""
    if problem is None:
        return
    message = f"{service} is not available ({problem}); start it with: {HOW_TO_START[service]}"
    if services_required():
        pytest.fail(message + " [HUBLOG_REQUIRE_SERVICES=1]", pytrace=False)
    pytest.skip(message)


@functools.cache
def postgres_problem() -> str | None:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


@functools.cache
def redis_problem() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except redis.RedisError as exc:
        return str(exc)
    return None


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh, migrated PostgreSQL schema; yields a store URL that uses it."""
    import psycopg

    from adapters.sql import create_engine, migrations

    need("postgresql", postgres_problem())
    schema = f"hublog_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            migrations.upgrade(conn)
        engine.dispose()
        yield url
    finally:
        engine.dispose()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A store URL on the shared Redis under a key prefix of its own; the
    keys under it are deleted afterwards (never FLUSHALL a shared server)."""
    import redis

    need("redis", redis_problem())
    prefix = f"hublog-test-{uuid.uuid4().hex[:12]}"
    try:
        yield f"{REDIS_URL}?key_prefix={prefix}"
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)
        client.close()
