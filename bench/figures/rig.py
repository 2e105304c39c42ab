"""Everything the rows measure against, opened once per run: hublog's stores,
the raw connections, the peer's applications, and the logs that the read
and rebuild rows read (filled before the first round, not timed)."""

from __future__ import annotations

import itertools
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from adapters import open_store
from eventstore import EventStore

from . import ours, raw_postgres, raw_redis, raw_sqlite
from .data import pool_log, samples_log
from .places import REDIS_URL, Places

SQL = ("sqlite", "postgresql")
BACKENDS = (*SQL, "redis")
READ_HUB, REBUILD_HUB = "read-pool", "rebuild-pool"


@dataclass(frozen=True)
class Sizes:
    batch: int
    batches: int
    singles: int
    read_events: int
    rebuild_events: int
    writer_events: int  # per writer process
    lease_calls: int
    replay_events: int
    cli_repeats: int  # fresh `hublog` processes per replay figure (best of)
    follow_events: int  # appended one every 20 ms while a subscriber process follows
    follow_idle: float  # seconds the subscriber then follows an idle log (CPU measured)


FULL = Sizes(500, 40, 1000, 50_000, 50_000, 400, 300, 1_000_000, 3, 200, 10.0)
SMOKE = Sizes(500, 2, 20, 1000, 600, 10, 10, 2000, 1, 15, 0.5)


class Rig:
    def __init__(self, places: Places, sizes: Sizes, with_peer: bool) -> None:
        self.places, self.sizes, self.with_peer = places, sizes, with_peer
        self.stores: dict[str, EventStore] = {}
        self.urls: dict[str, str] = {}
        self.raw: dict[str, Any] = {}
        self.raw_where: dict[str, str] = {}
        self.peers: dict[tuple[str, str], Any] = {}  # (backend, purpose) -> app
        self.peer_where: dict[tuple[str, str], str] = {}
        self.rebuild_ids: dict[str, list[str]] = {}
        self._names = itertools.count(1)

    def fresh(self, name: str) -> str:
        """A hub (or key) name not used before in this run."""
        return f"{name}-{next(self._names)}"

    async def open(self, stack: AsyncExitStack) -> None:
        p = self.places
        self.urls = {"sqlite": f"sqlite:///{p.sqlite_path('hublog')}",
                     "postgresql": p.hublog_pg_url(), "redis": p.hublog_redis_url()}  # fmt: skip
        for backend, url in self.urls.items():
            self.stores[backend] = await stack.enter_async_context(open_store(url))
        self._open_raw()
        if self.with_peer:
            self._open_peers()
        await self._fill()

    def _open_raw(self) -> None:
        self.raw_where = {"sqlite": self.places.sqlite_path("raw"),
                          "postgresql": self.places.pg_url(self.places.schema("raw")),
                          "redis": REDIS_URL}  # fmt: skip
        self.raw["sqlite"] = raw_sqlite.connect(self.raw_where["sqlite"])
        raw_sqlite.create(self.raw["sqlite"])
        self.raw["postgresql"] = raw_postgres.connect(self.raw_where["postgresql"])
        raw_postgres.create(self.raw["postgresql"])
        self.raw["redis"] = raw_redis.connect(REDIS_URL)

    def _open_peers(self) -> None:
        from . import peer

        for purpose in ("write", "read", "rebuild"):
            path = self.places.sqlite_path(f"peer-{purpose}")
            self.peer_where["sqlite", purpose] = path
            self.peers["sqlite", purpose] = peer.sqlite_app(path)
            schema = self.places.schema(f"peer_{purpose}")
            self.peer_where["postgresql", purpose] = schema
            self.peers["postgresql", purpose] = peer.postgres_app(schema)

    async def _fill(self) -> None:
        reads, rebuilds = samples_log(self.sizes.read_events), pool_log(self.sizes.rebuild_events)
        for backend in BACKENDS:
            await ours.fill(self.stores[backend], READ_HUB, reads)
        for backend in SQL:
            await ours.fill(self.stores[backend], REBUILD_HUB, rebuilds)
        raw_sqlite.fill(self.raw["sqlite"], READ_HUB, reads)
        raw_sqlite.fill(self.raw["sqlite"], REBUILD_HUB, rebuilds)
        raw_postgres.fill(self.raw["postgresql"], READ_HUB, reads)
        raw_postgres.fill(self.raw["postgresql"], REBUILD_HUB, rebuilds)
        raw_redis.fill(self.raw["redis"], self.places.raw_redis_key(READ_HUB), reads)
        if self.with_peer:
            from . import peer

            for backend in SQL:
                peer.fill(self.peers[backend, "read"], reads)
                ids = peer.fill(self.peers[backend, "rebuild"], rebuilds)
                self.rebuild_ids[backend] = [str(i) for i in ids]

    def close(self) -> None:
        for app in self.peers.values():
            app.close()
        for conn in self.raw.values():  # only what was opened, if opening failed
            conn.close()
