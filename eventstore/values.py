"""Value types inside events: Gleitzeit's enums, metrics and resource configs.

They mirror ``gleitzeit/hub/base.py`` and ``gleitzeit/hub/configs.py`` field
for field, so that a ``ResourceInstance`` round-trips through the log with
nothing dropped (Gleitzeit's own persistence lost ``config`` and the health
fields).  Schema-evolution rules: a new field gets a default; a field's type
never changes; a default never changes (stored payloads leave out fields
equal to their defaults, ``omit_defaults``).
"""

from __future__ import annotations

import enum
import sys
from datetime import datetime
from typing import Annotated, Any

import msgspec

UTCDateTime = Annotated[datetime, msgspec.Meta(tz=True)]

Finite = Annotated[float, msgspec.Meta(ge=-sys.float_info.max, le=sys.float_info.max)]
"""A float that is neither NaN nor infinite: what a metric can mean.  The
codec refuses NaN and ±inf here at append (InvalidEventError naming the
field), so every backend and every JSON form (which has no NaN) agree."""
"""Every time in an event is timezone-aware; a naive one is refused at append
(Gleitzeit's naive ``utcnow()`` values must be given a zone first)."""


class ResourceStatus(enum.Enum):
    UNKNOWN = "unknown"
    STARTING = "starting"
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    STOPPING = "stopping"
    STOPPED = "stopped"
    ERROR = "error"

    @property
    def is_available(self) -> bool:
        """Gleitzeit's ``is_available()``: healthy or degraded."""
        return self in (ResourceStatus.HEALTHY, ResourceStatus.DEGRADED)


class ResourceType(enum.Enum):
    OLLAMA = "ollama"
    DOCKER = "docker"
    COMPUTE = "compute"
    STORAGE = "storage"
    CUSTOM = "custom"


class Metrics(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Every field of Gleitzeit's ``ResourceMetrics``.

    ``last_updated`` is Gleitzeit's own sample time (it keeps naive UTC; the
    log keeps it timezone-aware).  ``error_rate`` is derived, never stored.
    """

    cpu_percent: Finite = 0.0
    memory_percent: Finite = 0.0
    memory_mb: Finite = 0.0
    disk_io_mb: Finite = 0.0
    network_io_mb: Finite = 0.0
    request_count: int = 0
    error_count: int = 0
    avg_response_time_ms: Finite = 0.0
    p95_response_time_ms: Finite = 0.0
    p99_response_time_ms: Finite = 0.0
    active_connections: int = 0
    queued_requests: int = 0
    custom_metrics: dict[str, Any] = {}
    last_updated: UTCDateTime | None = None

    @property
    def error_rate(self) -> float:
        """Errors per request in percent, as Gleitzeit's ``to_dict()`` derives it."""
        return self.error_count / max(1, self.request_count) * 100


class ResourceConfig(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    """Base of the type-specific configuration an instance carries.

    Stored whole, defaults included (no ``omit_defaults``): the hub API hands
    its fields to Gleitzeit as a dict (``adapters.hub.convert.config_dict``)."""


class OllamaConfig(ResourceConfig, tag="ollama", frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 11434
    models: list[str] = []
    max_concurrent: int = 4
    gpu_layers: int | None = None
    cpu_threads: int | None = None
    context_size: int | None = None
    environment: dict[str, str] = {}
    auto_pull_models: bool = True
    process_id: int | None = None


class DockerConfig(ResourceConfig, tag="docker", frozen=True, kw_only=True):
    image: str = "python:3.11-slim"
    name: str | None = None
    command: str | None = None
    environment: dict[str, str] = {}
    volumes: dict[str, dict[str, str]] = {}
    ports: dict[str, int] = {}
    memory_limit: str = "512m"
    cpu_limit: float = 1.0
    network_mode: str = "bridge"
    labels: dict[str, str] = {}
    restart_policy: dict[str, Any] = {}
    auto_remove: bool = False
    detach: bool = True
    privileged: bool = False
    user: str | None = None
    working_dir: str | None = None
    container_id: str | None = None


class CustomConfig(ResourceConfig, tag="custom", frozen=True, kw_only=True):
    """Any other config object, kept as its fields plus the class it came from."""

    type_name: str = ""
    values: dict[str, Any] = {}


InstanceConfig = OllamaConfig | DockerConfig | CustomConfig
