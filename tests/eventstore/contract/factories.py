"""Small event factories for tests: real catalogue events with sensible values."""

from __future__ import annotations

from datetime import UTC, datetime

from eventstore import (
    HealthChecked,
    InstanceRegistered,
    LockGranted,
    Metrics,
    MetricsSampled,
    OllamaConfig,
    ResourceType,
)

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def registered(name: str = "ollama-1") -> InstanceRegistered:
    return InstanceRegistered(
        name=name,
        resource_type=ResourceType.OLLAMA,
        endpoint="http://127.0.0.1:11434",
        tags=frozenset({"gpu"}),
        capabilities=frozenset({"llama3"}),
        config=OllamaConfig(models=["llama3"]),
        created_at=T0,
    )


def checked(ok: bool = True) -> HealthChecked:
    return HealthChecked(ok=ok, checked_at=T0, latency_ms=12.5)


def checks(n: int) -> list[HealthChecked]:
    return [checked(ok=i % 3 != 2) for i in range(n)]


def sampled(requests: int = 10) -> MetricsSampled:
    return MetricsSampled(metrics=Metrics(request_count=requests, cpu_percent=40.0), sampled_at=T0)


def granted(owner: str = "node-a", token: int = 1) -> LockGranted:
    return LockGranted(owner=owner, token=token, ttl_s=30.0, expires_at=T0)
