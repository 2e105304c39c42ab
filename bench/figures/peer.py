"""The peer: the ``eventsourcing`` library (9.5) on the same backends.

Its natural shape for a hub: one :class:`Instance` aggregate per instance,
saved through an :class:`~eventsourcing.application.Application` (domain
events -> its JSON mapper -> its SQLite or PostgreSQL application recorder),
read back through the application sequence (``select_notifications``, the
peer's counterpart of a hub's ordered log) and reconstructed by its
repository.  Imported only when ``eventsourcing`` is installed (the
``bench`` extra).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from .data import LogEntry

PAGE = 500  # the same page size hublog reads with


class Instance(Aggregate):
    """One instance: registration, health and metrics, as the peer folds them."""

    @event("Registered")
    def __init__(self, name: str, endpoint: str) -> None:
        self.name = name
        self.endpoint = endpoint
        self.healthy = True
        self.checks = 0
        self.transitions: list[tuple[bool, datetime]] = []
        self.samples = 0
        self.last_metrics: dict[str, Any] = {}
        self.cpu_max = 0.0

    @event("HealthChecked")
    def check(self, ok: bool, latency_ms: float, checked_at: datetime) -> None:
        self.checks += 1
        if ok != self.healthy:
            self.transitions.append((ok, checked_at))
            self.healthy = ok

    @event("MetricsSampled")
    def sample(self, metrics: dict[str, Any], sampled_at: datetime) -> None:
        self.samples += 1
        self.last_metrics = metrics
        self.cpu_max = max(self.cpu_max, metrics["cpu_percent"])


class Pool(Application[UUID]):
    """The peer application; one per datastore (file or schema)."""


def sqlite_app(path: str, *, create_table: bool = True) -> Pool:
    return Pool(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path,
                     "SQLITE_LOCK_TIMEOUT": "30", "CREATE_TABLE": _yes(create_table)})  # fmt: skip


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def postgres_app(schema: str, *, create_table: bool = True, dbname: str = "test",
                 host: str = "127.0.0.1", port: str = "5432", user: str = "postgres",
                 password: str = "") -> Pool:  # fmt: skip
    """The peer on PostgreSQL; ``create_table=False`` for a second process on
    the same schema (concurrent CREATEs collide in PostgreSQL's catalogue)."""
    return Pool(
        env={
            "CREATE_TABLE": _yes(create_table),
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": host,
            "POSTGRES_PORT": port,
            "POSTGRES_USER": user,
            "POSTGRES_PASSWORD": password,
            "POSTGRES_SCHEMA": schema,
        }
    )


METRICS = {"cpu_percent": 40.0, "memory_percent": 0.0, "request_count": 10, "error_count": 0}


def new_instance(n: int = 0) -> Instance:
    return Instance(name=f"ollama-{n}", endpoint=f"http://10.0.0.{n % 250}:11434")


def sample_now(instance: Instance) -> None:
    instance.sample(metrics=METRICS, sampled_at=datetime.now(UTC))


def batched_append(app: Pool, batch: int, batches: int) -> float:
    """Events/s saving ``batches`` aggregates of ``batch`` samples each."""
    pending = []
    for n in range(batches):
        instance = new_instance(n)
        app.save(instance)  # the registration is not timed
        for _ in range(batch):
            sample_now(instance)
        pending.append(instance)
    started = time.perf_counter()
    for instance in pending:
        app.save(instance)
    return batch * batches / (time.perf_counter() - started)


def single_appends(app: Pool, count: int) -> float:
    """Events/s saving one sample at a time (one insert per event)."""
    instance = new_instance()
    app.save(instance)
    started = time.perf_counter()
    for _ in range(count):
        sample_now(instance)
        app.save(instance)
    return count / (time.perf_counter() - started)


def read_all(app: Pool) -> int:
    """Read the application sequence in pages and map every event back."""
    start, count = 1, 0
    to_domain = app.mapper.to_domain_event
    while True:
        page = app.recorder.select_notifications(start, PAGE)
        for notification in page:
            to_domain(notification)
        count += len(page)
        if len(page) < PAGE:
            return count
        start = page[-1].id + 1


def reconstruct(app: Pool, ids: list[UUID]) -> int:
    """Reconstruct every instance aggregate from its events; events folded."""
    return sum(app.repository.get(i).version for i in ids)


def fill(app: Pool, log: list[LogEntry]) -> list[UUID]:
    """Write the same log the other sides hold (one aggregate per instance)."""
    instances: dict[str, Instance] = {}
    for entry in log:
        if entry.kind == "registered":
            instances[entry.instance] = new_instance(len(instances))
        elif entry.kind == "checked":
            instances[entry.instance].check(ok=entry.ok, latency_ms=5.0, checked_at=entry.at)
        else:
            instances[entry.instance].sample(metrics=entry.metrics, sampled_at=entry.at)
        if len(instances[entry.instance].pending_events) >= PAGE:
            app.save(instances[entry.instance])
    app.save(*instances.values())
    return [i.id for i in instances.values()]


def payload_bytes(app: Pool) -> int:
    """The size of one sample as the peer stores it (its JSON state)."""
    instance = new_instance()
    sample_now(instance)
    return len(app.mapper.to_stored_event(instance.pending_events[-1]).state)
