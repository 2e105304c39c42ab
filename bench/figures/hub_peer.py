"""hublog's hub API beside Gleitzeit 0.0.5's own persistence adapters
(``UnifiedSQLAlchemyAdapter``, ``UnifiedRedisAdapter``), each side in a
child process of its own per round:

    python -m bench.figures.hub_peer '<json job>'

prints one JSON line, per backend ``{"ops": {op: ops/s or "error"},
"answers": {...}}`` (or ``{"failed": "..."}``).  Children, not the bench's
process, because Gleitzeit's SQLite adapter registers a process-wide
SQLAlchemy ``connect`` listener (``PRAGMA foreign_keys=ON`` on every
engine's new connections) that breaks PostgreSQL engines opened later in the
same process; so Gleitzeit's child runs SQLite last.

Both sides get the same Gleitzeit objects and the same past: one hub of
``instances`` Ollama instances; the measured one has ``history`` samples over
the last 20 hours (Gleitzeit: rows in its metrics table or members of its
sorted set, written through its own ORM model / key layout; hublog: its
metrics stream) and, on hublog's side, as many health events in its stream
(Gleitzeit keeps one overwritten record, no history).  Then every call of
:data:`hub_ops.OPS`, ``calls`` timed calls each after one warm-up.
Gleitzeit's adapters swallow every exception (logged, then ``None`` /
``False`` / ``[]``): the child counts the error records they log, and the
answers the calls gave, so that a fast wrong answer shows as one.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import anyio

from .hub_inputs import instance, past, past_samples, register_in_past, write_past
from .hub_ops import OPS, Caller, each_op, ops_per_s
from .hub_rig import HubSizes, gleitzeit_place, hublog_url
from .places import Places
from .table import Failed, Row

ROOT = Path(__file__).resolve().parents[2]
HUB = "pool"
PORT = 11434
SIDES = ("hublog", "gleitzeit")
METRIC_FIELDS = ("cpu_percent", "memory_percent", "memory_mb", "disk_io_mb", "network_io_mb",
                 "request_count", "error_count", "avg_response_time_ms", "p95_response_time_ms",
                 "p99_response_time_ms", "active_connections", "queued_requests")  # fmt: skip


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Run ``job`` in a fresh interpreter; what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.figures.hub_peer", json.dumps(job)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"{job['side']} child failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


class Beside:
    """One row per (backend, op), results keyed by side; what each side
    answered.  Each round runs hublog's child, then Gleitzeit's, each on
    fresh places."""

    def __init__(self, places: Places, sizes: HubSizes, backends: tuple[str, ...]) -> None:
        self.places, self.sizes, self.backends = places, sizes, backends
        self.rows = {(b, op): Row(f"{b} {op}", "ops/s", None) for b in backends for op in OPS}
        self.answers: dict[tuple[str, str], Counter[str]] = {
            (b, side): Counter() for b in backends for side in SIDES
        }
        self.first_errors: dict[tuple[str, str], str] = {}

    def job(self, side: str, n: int) -> dict[str, Any]:
        s, p = self.sizes, self.places
        places = {
            b: {"url": hublog_url(p, b, f"beside_{b}_hublog_r{n}")}
            if side == "hublog"
            else gleitzeit_place(p, b, f"beside_{b}_gleitzeit_r{n}")
            for b in self.backends
        }
        return {"side": side, "places": places, "history": s.peer_history,
                "calls": s.peer_calls, "instances": s.peer_instances}  # fmt: skip

    async def round(self, n: int) -> None:
        for side in SIDES:
            try:
                results: Any = run(self.job(side, n))
            except Exception as exc:  # noqa: BLE001 - every op of the side shows it
                results = {b: exc for b in self.backends}
            for b in self.backends:
                self._keep(b, side, results[b])

    def _keep(self, backend: str, side: str, result: dict[str, Any] | Exception) -> None:
        if isinstance(result, dict):
            self.answers[backend, side].update(result.get("answers", {}))
            if "first error" in result:
                self.first_errors.setdefault((backend, side), result["first error"])
        for op in OPS:
            figure = _figure(result, op)
            if isinstance(figure, Failed):
                print(f"  {backend} {op} / {side} failed: {figure.reason}", file=sys.stderr)
            self.rows[backend, op].results.setdefault(side, []).append(figure)


def _figure(result: dict[str, Any] | Exception, op: str) -> float | Failed:
    if isinstance(result, Exception):
        return Failed(f"{type(result).__name__}: {str(result).splitlines()[0]}")
    if "failed" in result:
        return Failed(result["failed"])
    value = result["ops"][op]
    return Failed(value) if isinstance(value, str) else float(value)


# --- the child -------------------------------------------------------------------


class ErrorsLogged(logging.Handler):
    """Counts the error records Gleitzeit's adapters log instead of raising."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.first = self.first or record.getMessage()[:200]


async def measured(adapter: Any, job: dict[str, Any], seed_past: Any) -> dict[str, Any]:
    """Register the hub's instances, give the measured one its past, time
    every op; the figures and the answers."""
    target = register_in_past(instance(PORT))
    await adapter.save_instance(HUB, target)
    for k in range(1, job["instances"]):
        await adapter.save_instance(HUB, instance(PORT + k))
    await seed_past(adapter, target.id, job["history"])
    caller = Caller(adapter, HUB, target, next_sample=job["history"])
    figures = await each_op(OPS, lambda op: ops_per_s(caller, op, job["calls"]))
    await caller.check_after_saves()
    ops = {
        op: v if isinstance(v, float) else f"{type(v).__name__}: {v}" for op, v in figures.items()
    }
    return {"ops": ops, "answers": dict(caller.answers)}


async def hublog_side(job: dict[str, Any], backend: str) -> dict[str, Any]:
    from adapters.hub import HubPersistenceAdapter

    async def seed(adapter: Any, instance_id: str, events: int) -> None:
        await write_past(await adapter.session.store(), HUB, instance_id, events)

    async with HubPersistenceAdapter(job["places"][backend]["url"]) as adapter:
        return await measured(adapter, job, seed)


async def gleitzeit_side(job: dict[str, Any], backend: str) -> dict[str, Any]:
    place = job["places"][backend]
    if backend == "redis":
        from gleitzeit.persistence.unified_redis import UnifiedRedisAdapter

        adapter: Any = UnifiedRedisAdapter(redis_url=place["url"], key_prefix=place["key_prefix"])
        seed = _redis_past
    else:
        from gleitzeit.persistence.unified_sqlalchemy import UnifiedSQLAlchemyAdapter

        adapter = UnifiedSQLAlchemyAdapter(connection_string=place["url"])
        seed = _sql_past
    errors = ErrorsLogged()
    logging.getLogger("gleitzeit").addHandler(errors)
    await adapter.initialize()
    try:
        result = await measured(adapter, job, seed)
    finally:
        await adapter.shutdown()
        logging.getLogger("gleitzeit").removeHandler(errors)
    result["answers"]["errors logged"] = errors.count
    if errors.first:
        result["first error"] = errors.first
    return result


async def _sql_past(adapter: Any, instance_id: str, count: int) -> None:
    """Its metrics table's rows, as its ``save_metrics`` writes them."""
    from gleitzeit.persistence.unified_sqlalchemy import DBResourceMetrics

    rows = [
        DBResourceMetrics(instance_id=instance_id, timestamp=at.replace(tzinfo=None),
                          custom_metrics=json.dumps(m.custom_metrics),
                          **{f: getattr(m, f) for f in METRIC_FIELDS})
        for at, m in past_samples(count, *past(count))
    ]  # fmt: skip
    async with adapter.async_session() as session:
        session.add_all(rows)
        await session.commit()


async def _redis_past(adapter: Any, instance_id: str, count: int) -> None:
    """Its sorted set's members, as its ``save_metrics`` writes them."""
    key = adapter._metrics_key(instance_id)
    async with adapter.redis.pipeline() as pipe:
        for at, m in past_samples(count, *past(count)):
            score = int(at.timestamp())
            pipe.zadd(key, {json.dumps({**m.to_dict(), "timestamp": score}): score})
        await pipe.execute()


def child_order(backends: list[str]) -> list[str]:
    """SQLite last: after Gleitzeit's SQLite adapter has started, no new
    PostgreSQL connection works in this process (its global listener)."""
    return sorted(backends, key=lambda b: b == "sqlite")


async def child(job: dict[str, Any]) -> dict[str, Any]:
    side = {"hublog": hublog_side, "gleitzeit": gleitzeit_side}[job["side"]]
    out: dict[str, Any] = {}
    for backend in child_order(list(job["places"])):
        try:
            out[backend] = await side(job, backend)
        except Exception as exc:  # noqa: BLE001 - reported in the backend's cells
            out[backend] = {"failed": f"{type(exc).__name__}: {exc}"[:300]}
    return out


def main() -> None:
    print(json.dumps(anyio.run(child, json.loads(sys.argv[1]))))


if __name__ == "__main__":
    main()
