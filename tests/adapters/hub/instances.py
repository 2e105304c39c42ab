"""Gleitzeit-shaped test doubles: duck types of ResourceInstance and friends
(the real Gleitzeit is used only by test_gleitzeit.py)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Type(enum.Enum):
    OLLAMA = "ollama"
    DOCKER = "docker"


class Status(enum.Enum):
    UNKNOWN = "unknown"
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    STOPPED = "stopped"


@dataclass
class OllamaConfig:
    host: str = "127.0.0.1"
    port: int = 11434
    models: list[str] = field(default_factory=list)
    max_concurrent: int = 4
    process_id: int | None = None


@dataclass
class DockerConfig:
    image: str = "python:3.11-slim"
    container_id: str | None = None


@dataclass
class Metrics:
    cpu_percent: float = 0.0
    request_count: int = 0
    error_count: int = 0
    active_connections: int = 0
    custom_metrics: dict[str, Any] = field(default_factory=dict)
    last_updated: datetime = field(default_factory=lambda: datetime(2020, 1, 1))  # stale


@dataclass
class Instance:
    id: str
    name: str = "Ollama@11434"
    type: Type = Type.OLLAMA
    endpoint: str = "http://127.0.0.1:11434"
    status: Status = Status.HEALTHY
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: set[str] = field(default_factory=lambda: {"ollama"})
    capabilities: set[str] = field(default_factory=lambda: {"llama3"})
    metrics: Metrics = field(default_factory=Metrics)
    health_checks_failed: int = 0
    last_health_check: datetime | None = None
    created_at: datetime = field(default_factory=lambda: datetime(2024, 5, 1, 12, 0))
    updated_at: datetime = field(default_factory=lambda: datetime(2024, 5, 1, 12, 0))
    config: Any = field(default_factory=lambda: OllamaConfig(models=["llama3"], max_concurrent=2))
