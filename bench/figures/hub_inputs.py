"""What the hub-API figures feed both sides: Gleitzeit's own objects, and an
instance's past as events.

Inputs are real Gleitzeit 0.0.5 ``ResourceInstance`` / ``ResourceMetrics``
objects, built as ``OllamaHub.create_resource`` builds them, when the
``gleitzeit`` extra is installed; otherwise the suite's duck types
(``tests/adapters/hub/instances.py``), which only hublog accepts.

An instance's past (:func:`write_past`) is what a hub saving on every health
check leaves in the log, written by ``store.append`` in batches (fast, not
timed): its stream flaps healthy -> degraded -> healthy (two failed checks,
the change, a passing check, the change back), its metrics stream holds as
many samples, spread over the last 20 hours (inside the 24 h raw window, so
no rollups), counters rising.  Every event is one the hub projection accepts
without an anomaly.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from eventstore import EventStore, HealthChanged, HealthChecked, Metrics, MetricsSampled, streams
from eventstore.events import Event
from eventstore.values import ResourceStatus

HAVE_GLEITZEIT = importlib.util.find_spec("gleitzeit") is not None
BATCH = 500
PAST_SPAN = timedelta(hours=20)
MODELS = ("llama3:8b", "qwen2:7b")


def naive_utc_now() -> datetime:
    """Now as Gleitzeit keeps time: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def instance(port: int, host: str = "10.0.0.7") -> Any:
    """A healthy Ollama instance as ``OllamaHub.create_resource`` builds it."""
    fields: dict[str, Any] = {
        "id": f"ollama-{host}-{port}", "name": f"Ollama@{port}",
        "endpoint": f"http://{host}:{port}", "tags": {"ollama", f"port:{port}"},
        "capabilities": set(MODELS),
    }  # fmt: skip
    if not HAVE_GLEITZEIT:
        from tests.hub import instances as doubles

        config = doubles.OllamaConfig(host=host, port=port, models=list(MODELS))
        return doubles.Instance(config=config, **fields)
    from gleitzeit.hub import base, configs

    return base.ResourceInstance(
        type=base.ResourceType.OLLAMA, status=base.ResourceStatus.HEALTHY,
        config=configs.OllamaConfig(host=host, port=port), metrics=base.ResourceMetrics(),
        **fields,
    )  # fmt: skip


def set_health(target: Any, healthy: bool) -> None:
    """What a hub does to its instance after a health check: healthy with no
    failures, or degraded after two."""
    status_type = type(target.status)
    target.status = status_type("healthy" if healthy else "degraded")
    target.health_checks_failed = 0 if healthy else 2
    target.last_health_check = naive_utc_now()


def metrics(n: int) -> Any:
    """The ``n``-th sample of an instance (counters rising with ``n``)."""
    fields: dict[str, Any] = {
        "cpu_percent": float(n % 90), "request_count": 10 * n, "error_count": n // 20,
        "active_connections": n % 4,
    }  # fmt: skip
    if not HAVE_GLEITZEIT:
        from tests.adapters.hub.instances import Metrics as Doubled

        return Doubled(**fields)
    from gleitzeit.hub.base import ResourceMetrics

    return ResourceMetrics(memory_percent=41.5, avg_response_time_ms=12.5, **fields)


def flapping(start: datetime, count: int, spacing: timedelta) -> Iterator[Event]:
    """``count`` health events of an instance that starts healthy and flaps."""
    healthy, degraded = ResourceStatus.HEALTHY, ResourceStatus.DEGRADED
    for n in range(count):
        at = start + n * spacing
        yield [
            HealthChecked(ok=False, checked_at=at, latency_ms=250.0, consecutive_failures=1),
            HealthChecked(ok=False, checked_at=at, latency_ms=250.0, consecutive_failures=2),
            HealthChanged(from_status=healthy, to_status=degraded, consecutive_failures=2,
                          reason="2 failed checks"),
            HealthChecked(ok=True, checked_at=at, latency_ms=4.0),
            HealthChanged(from_status=degraded, to_status=healthy, reason="check passed"),
        ][n % 5]  # fmt: skip


def past_samples(count: int, start: datetime, spacing: timedelta) -> list[tuple[datetime, Any]]:
    """``(sampled_at, metrics)`` of an instance's past samples, oldest first."""
    return [(start + n * spacing, metrics(n)) for n in range(count)]


def sampled(at: datetime, m: Any) -> MetricsSampled:
    """The sample ``m`` as the log holds it."""
    values = {f: getattr(m, f) for f in Metrics.__struct_fields__ if hasattr(m, f)}
    values.pop("last_updated", None)  # Gleitzeit's, never updated by OllamaHub
    return MetricsSampled(metrics=Metrics(**values), sampled_at=at)


def past(events: int) -> tuple[datetime, timedelta]:
    """Where an instance's past of ``events`` events starts, and their spacing."""
    return datetime.now(UTC) - PAST_SPAN, PAST_SPAN / max(1, events + 1)


async def write_past(store: EventStore, hub: str, instance_id: str, events: int) -> None:
    """Bring the instance's stream (registered by ``save_instance`` of an
    instance last checked :data:`PAST_SPAN` ago, see :func:`register_in_past`)
    to ``events`` events, and give its metrics stream as many samples, the
    last one a spacing before now."""
    start, spacing = past(events)
    stream = streams.instance(instance_id)
    written = await store.stream_version(hub, stream)
    await _append_all(store, hub, stream, flapping(start + spacing, events - written, spacing))
    history = (sampled(at, m) for at, m in past_samples(events, start, spacing))
    await _append_all(store, hub, streams.metrics(instance_id), history)


def register_in_past(target: Any) -> Any:
    """``target`` as a hub registering it :data:`PAST_SPAN` ago would save it."""
    target.last_health_check = naive_utc_now() - PAST_SPAN
    return target


async def _append_all(store: EventStore, hub: str, stream: str, events: Iterator[Event]) -> None:
    batch: list[Event] = []
    for event in events:
        batch.append(event)
        if len(batch) == BATCH:
            await store.append(hub, stream, batch)
            batch = []
    if batch:
        await store.append(hub, stream, batch)
