"""The rebuild, memory, writer-process, import and not-yet-landed rows.

A rebuild row runs each side in a fresh process (so its peak RSS is that
rebuild's alone); the RSS row after it reports the peak of the same child,
so one child per side and round yields both figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

from . import child, extras, ours, raw_postgres, raw_sqlite, writers
from .places import REDIS_URL
from .rig import REBUILD_HUB, SQL, Rig
from .rows_log import NAMES, peer, peer_side, rate
from .table import Noted, Row


class RebuildChildren:
    """Fresh-process rebuilds; the last result of each (backend, side)."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.last: dict[tuple[str, str], dict[str, float]] = {}

    def job(self, backend: str, side: str) -> dict[str, Any]:
        rig = self.rig
        where = {"hublog": rig.urls[backend], "raw": rig.raw_where[backend],
                 "peer": rig.peer_where.get((backend, "rebuild"))}[side]  # fmt: skip
        return {"side": side, "backend": backend, "url": where, "hub": REBUILD_HUB,
                "events": rig.sizes.rebuild_events, "ids": rig.rebuild_ids.get(backend, [])}  # fmt: skip

    def rate(self, backend: str, side: str) -> Any:
        def measure() -> float:
            result = child.run_rebuild(self.job(backend, side))
            self.last[backend, side] = result
            return result["events"] / result["seconds"]

        return measure

    def rss(self, backend: str, side: str) -> Any:
        return lambda: self.last[backend, side]["maxrss_mib"]


def rebuild_rows(rig: Rig) -> list[Row]:
    children, n = RebuildChildren(rig), rig.sizes.rebuild_events
    out = []
    for b in SQL:
        label = f"rebuild of hub + health + metrics read models, {NAMES[b]} ({n:,} events)"
        out.append(Row(label, "events/s", children.rate(b, "hublog"), children.rate(b, "raw"),
                       peer_side(rig, b, children.rate(b, "peer"))))  # fmt: skip
        out.append(Row(f"peak RSS during that rebuild, {NAMES[b]}", "MiB",
                       children.rss(b, "hublog"), children.rss(b, "raw"),
                       peer_side(rig, b, children.rss(b, "peer"))))  # fmt: skip
    for b in SQL:
        raw = raw_sqlite if b == "sqlite" else raw_postgres
        out.append(Row(
            f"rebuild, {NAMES[b]} log, read models in memory (in-process)", "events/s",
            rate(lambda b=b: ours.rebuild_in_memory(rig.stores[b], REBUILD_HUB), n),
            rate(lambda b=b, raw=raw: raw.read_all(rig.raw[b], REBUILD_HUB), n),
            peer_side(rig, b, rate(lambda b=b: peer.reconstruct(
                rig.peers[b, "rebuild"], [UUID(i) for i in rig.rebuild_ids[b]]), n)),
        ))  # fmt: skip
    return out


def writer_rows(rig: Rig) -> list[Row]:
    n = rig.sizes.writer_events
    raw_where = {**rig.raw_where, "redis": ""}

    def side(name: str, b: str, where: str) -> Any:
        def measure() -> float:
            hub = rig.fresh("w")
            place = (
                f"{REDIS_URL}#{rig.places.raw_redis_key(hub)}"
                if (b, name) == ("redis", "raw")
                else where
            )
            return writers.total_rate(name, b, place, hub, n)

        return measure

    return [
        Row(f"{writers.WRITERS} writer processes on one hub, single events, {NAMES[b]}",
            "events/s", side("hublog", b, rig.urls[b]), side("raw", b, raw_where[b]),
            peer_side(rig, b, side("peer", b, rig.peer_where.get((b, "write"), ""))))
        for b in rig.stores
    ]  # fmt: skip


def _imported(statement: str, *, note: bool = False) -> Any:
    def measure() -> Any:
        rss, sqlalchemy = child.import_cost(statement)
        return (
            Noted(rss, f"SQLAlchemy {'imported' if sqlalchemy else 'not imported'}")
            if note
            else rss
        )

    return measure


OPEN_NON_SQL = ("from adapters.stores import create_store\ncreate_store('memory://')\n"
                "create_store('redis://127.0.0.1:6379/0')")  # fmt: skip


def import_rows(rig: Rig) -> list[Row]:
    peer_imports = "import eventsourcing.application, eventsourcing.sqlite, eventsourcing.postgres"
    return [
        Row("RSS after `import eventstore`", "MiB", _imported("import eventstore", note=True),
            _imported("import msgspec"),
            _imported("import eventsourcing.application") if rig.with_peer else None),
        Row("RSS after `import adapters, projections`", "MiB",
            _imported("import adapters, projections", note=True),
            _imported("import sqlite3, psycopg, redis, msgspec"),
            _imported(peer_imports) if rig.with_peer else None),
        Row("RSS after creating memory:// and redis:// stores", "MiB",
            _imported(OPEN_NON_SQL, note=True)),
    ]  # fmt: skip


def extra_rows(rig: Rig) -> list[Row]:
    s, out = rig.sizes, []
    present = extras.record_present()
    for b in rig.stores:
        out.append(Row(f"`Recorder.record()` cost on the caller, {NAMES[b]}", "µs/call",
                       lambda b=b: extras.record_cost(rig.urls[b], rig.fresh("r"), s.singles * 5),
                       present=present))  # fmt: skip
        out.append(Row(f"awaited `HubPersistenceAdapter.record()`, one sample, {NAMES[b]}",
                       "µs/call",
                       lambda b=b: extras.awaited_record_cost(rig.urls[b], rig.fresh("r"),
                                                              s.singles),
                       present=present))  # fmt: skip
    leases = extras.module("lease_latency")
    for b in rig.stores:
        out.append(Row(f"lease acquire, uncontended, {NAMES[b]}", "ms",
                       lambda b=b: extras.lease_acquire(leases, rig.urls[b], rig.fresh("lease"),
                                                        s.lease_calls),
                       present=leases is not None))  # fmt: skip
    replay_speed = extras.module("replay_speed")
    replay = extras.Replay(replay_speed, Path(rig.places.tmp) / "replay.db", s.replay_events,
                           s.cli_repeats)  # fmt: skip
    label = f"on a {s.replay_events:,}-event SQLite log (fresh process, best of {s.cli_repeats})"
    out.append(Row(f"`hublog state --at` {label}", "s", replay.state_at,
                   present=replay_speed is not None))  # fmt: skip
    out.append(Row(f"`hublog events --since` 5 min {label}", "s", replay.events_since,
                   present=replay_speed is not None))  # fmt: skip
    return [*out, *follow_rows(rig)]


def follow_rows(rig: Rig) -> list[Row]:
    """Cross-process append-to-delivery latency, then that subscriber's idle CPU."""
    s, out = rig.sizes, []
    module = extras.module("follow_latency")
    follow = extras.Follow(module, s.follow_events, s.follow_idle)
    for b in rig.stores:
        out.append(Row(f"follow latency, append to delivery in another process, {NAMES[b]} "
                       f"({s.follow_events} events, one per 20 ms)", "ms", follow.latency(b),
                       present=module is not None))  # fmt: skip
        out.append(Row(f"idle CPU of a following subscriber, {NAMES[b]} ({s.follow_idle:g} s)",
                       "% of a core", follow.idle_cpu(b), present=module is not None))  # fmt: skip
    return out
