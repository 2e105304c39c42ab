"""Sizes of the hub-API figures, and a fresh place per measurement: every
cell of ``bench/hub_api.py`` gets a store of its own (a SQLite file, a
migrated PostgreSQL schema, a Redis key prefix — :class:`Places`), so one
cell's hubs and history never weigh on another's."""

from __future__ import annotations

from dataclasses import dataclass

from .places import REDIS_URL, Places

BACKENDS = ("sqlite", "postgresql", "redis")
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "redis": "Redis"}


@dataclass(frozen=True)
class HubSizes:
    histories: tuple[int, ...]  # events already in the instance's stream (growth rows)
    calls: int  # timed calls per op and cell (after one untimed warm-up)
    hubs: int  # the hub-count rows: 1 hub against this many
    count_history: int  # the instance's history in the hub-count rows
    peer_history: int  # the instance's history beside Gleitzeit's adapters
    peer_calls: int  # timed calls per op there
    peer_instances: int  # instances in the hub there


FULL = HubSizes((100, 1_000, 10_000), 30, 1_000, 100, 1_000, 100, 5)
SMOKE = HubSizes((20, 60), 3, 4, 20, 30, 5, 2)


def hublog_url(places: Places, backend: str, name: str) -> str:
    """A store URL of hublog's on a place of its own (``name``: lower case,
    digits and ``_``; it names the file, schema or key prefix)."""
    if backend == "sqlite":
        return f"sqlite:///{places.sqlite_path(name)}"
    if backend == "postgresql":
        return places.hublog_pg_url(name)
    return places.hublog_redis_url(name)


def gleitzeit_place(places: Places, backend: str, name: str) -> dict[str, str]:
    """Where Gleitzeit's adapter keeps a cell's data: its connection string
    (SQLAlchemy's async drivers: aiosqlite, psycopg) or Redis URL and prefix."""
    if backend == "sqlite":
        return {"url": f"sqlite+aiosqlite:///{places.sqlite_path(name)}"}
    if backend == "postgresql":
        url = places.pg_url(places.schema(name))
        return {"url": url.replace("postgresql://", "postgresql+psycopg://", 1)}
    return {"url": REDIS_URL, "key_prefix": f"{places.redis_prefix}:{name}"}
