"""Gleitzeit's objects in, Gleitzeit-shaped dicts out.

Duck-typed: a live ``ResourceInstance`` / ``ResourceMetrics`` dataclass (enums,
sets, naive-UTC datetimes, an ``OllamaConfig`` dataclass) or a plain dict of
``to_dict()``'s fields is read at call time into hublog's own frozen values,
so the hub may keep mutating its object afterwards.  Gleitzeit is never
imported here.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from eventstore.errors import InvalidEventError
from eventstore.values import (
    CustomConfig,
    DockerConfig,
    InstanceConfig,
    Metrics,
    OllamaConfig,
    ResourceStatus,
    ResourceType,
)
from projections.hub import InstanceState

_CONFIGS: dict[str, type[OllamaConfig | DockerConfig]] = {
    "OllamaConfig": OllamaConfig,
    "DockerConfig": DockerConfig,
}
_CONFIG_BY_TYPE: dict[ResourceType, type[OllamaConfig | DockerConfig]] = {
    ResourceType.OLLAMA: OllamaConfig,
    ResourceType.DOCKER: DockerConfig,
}
_METRIC_FIELDS = [f for f in Metrics.__struct_fields__ if f != "last_updated"]


class Observed(msgspec.Struct, frozen=True, kw_only=True):
    """What a hub said about one instance at the moment of the call."""

    id: str
    name: str
    resource_type: ResourceType
    endpoint: str
    status: ResourceStatus
    metadata: dict[str, Any]
    tags: frozenset[str]
    capabilities: frozenset[str]
    metrics: Metrics
    health_checks_failed: int
    last_health_check: datetime | None
    created_at: datetime | None
    updated_at: datetime | None
    config: InstanceConfig | None


def _reader(obj: object) -> Callable[[str, Any], Any]:
    if isinstance(obj, Mapping):
        return obj.get
    return lambda name, default: getattr(obj, name, default)


def utc(value: object, what: str) -> datetime | None:
    """A Gleitzeit time as aware UTC: naive values (and ISO strings) are UTC.

    Raises: InvalidEventError naming ``what`` for anything else.
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise InvalidEventError(f"{what}: not an ISO time: {value!r}") from exc
    if not isinstance(value, datetime):
        raise InvalidEventError(f"{what}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def naive_iso(value: datetime | None) -> str | None:
    """Gleitzeit's own form of a time: naive UTC, ``isoformat()``."""
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None).isoformat()


def observe(instance: object) -> Observed:
    """Copy a ``ResourceInstance`` (or its ``to_dict()`` plus ``config``).

    Raises: InvalidEventError naming the field that cannot be read.
    """
    get = _reader(instance)
    try:
        resource_type = ResourceType(_enum_value(get("type", None)))
        status = ResourceStatus(_enum_value(get("status", ResourceStatus.UNKNOWN)))
        observed = Observed(
            id=_text(get("id", None), "id"),
            name=_text(get("name", None), "name"),
            resource_type=resource_type,
            endpoint=_text(get("endpoint", None), "endpoint"),
            status=status,
            metadata=copy.deepcopy(dict(get("metadata", None) or {})),
            tags=frozenset(get("tags", None) or ()),
            capabilities=frozenset(get("capabilities", None) or ()),
            metrics=metrics_of(get("metrics", None)),
            health_checks_failed=int(get("health_checks_failed", 0) or 0),
            last_health_check=utc(get("last_health_check", None), "last_health_check"),
            created_at=utc(get("created_at", None), "created_at"),
            updated_at=utc(get("updated_at", None), "updated_at"),
            config=config_of(get("config", None), resource_type),
        )
        # a deep copy that also proves every value can be stored
        return msgspec.convert(msgspec.to_builtins(observed), Observed, strict=False)
    except (ValueError, TypeError, msgspec.ValidationError) as exc:
        raise InvalidEventError(f"cannot read the instance: {exc}") from exc


def _enum_value(value: object) -> object:
    return getattr(value, "value", value)


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidEventError(f"instance field {what!r} must be a non-empty str, got {value!r}")
    return value


def metrics_of(metrics: object) -> Metrics:
    """A ``ResourceMetrics`` (or its ``to_dict()``) as :class:`Metrics`.

    Raises: InvalidEventError for a field of the wrong type.
    """
    if metrics is None:
        return Metrics()
    get = _reader(metrics)
    values: dict[str, Any] = {}
    for name in _METRIC_FIELDS:
        value = get(name, None)
        if name == "custom_metrics" and value is None:
            value = get("custom", None)  # to_dict()'s name for it
        if value is not None:
            values[name] = copy.deepcopy(value)
    values["last_updated"] = utc(get("last_updated", None), "metrics.last_updated")
    try:
        return msgspec.convert(values, Metrics, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidEventError(f"cannot read the metrics: {exc}") from exc


def config_of(config: object, resource_type: ResourceType) -> InstanceConfig | None:
    """A config dataclass (or dict of its fields) as hublog's config value:
    Ollama and Docker field for field, anything else as :class:`CustomConfig`.

    Raises: InvalidEventError for fields that do not fit.
    """
    if config is None:
        return None
    if isinstance(config, OllamaConfig | DockerConfig | CustomConfig):
        return config
    target: type[OllamaConfig | DockerConfig] | None
    if isinstance(config, Mapping):
        fields, target = dict(config), _CONFIG_BY_TYPE.get(resource_type)
    elif dataclasses.is_dataclass(config) and not isinstance(config, type):
        fields, target = dataclasses.asdict(config), _CONFIGS.get(type(config).__name__)
    else:
        fields, target = dict(vars(config)), None
    try:
        if target is not None:
            return msgspec.convert(fields, target, strict=False)
        name = f"{type(config).__module__}.{type(config).__qualname__}"
        return CustomConfig(type_name=name, values=fields)
    except msgspec.ValidationError as exc:
        raise InvalidEventError(f"cannot read the config: {exc}") from exc


def config_dict(config: InstanceConfig | None) -> dict[str, Any] | None:
    """The config's fields (a ``CustomConfig``: the fields it was given)."""
    if config is None:
        return None
    if isinstance(config, CustomConfig):
        return copy.deepcopy(config.values)
    fields = msgspec.to_builtins(config)
    fields.pop("kind", None)
    return dict(fields)


def metrics_dict(metrics: Metrics) -> dict[str, Any]:
    """Shaped like ``ResourceMetrics.to_dict()``, plus the two fields it leaves out."""
    return {
        "cpu_percent": metrics.cpu_percent,
        "memory_percent": metrics.memory_percent,
        "memory_mb": metrics.memory_mb,
        "disk_io_mb": metrics.disk_io_mb,
        "network_io_mb": metrics.network_io_mb,
        "request_count": metrics.request_count,
        "error_count": metrics.error_count,
        "error_rate": metrics.error_rate,
        "avg_response_time_ms": metrics.avg_response_time_ms,
        "p95_response_time_ms": metrics.p95_response_time_ms,
        "p99_response_time_ms": metrics.p99_response_time_ms,
        "active_connections": metrics.active_connections,
        "queued_requests": metrics.queued_requests,
        "custom": copy.deepcopy(metrics.custom_metrics),
        "last_updated": naive_iso(metrics.last_updated),
    }


def instance_dict(state: InstanceState) -> dict[str, Any]:
    """Shaped like ``ResourceInstance.to_dict()``, plus ``config``."""
    return {
        "id": state.id,
        "name": state.name,
        "type": state.resource_type.value,
        "endpoint": state.endpoint,
        "status": state.status.value,
        "metadata": copy.deepcopy(state.metadata),
        "tags": sorted(state.tags),
        "capabilities": sorted(state.capabilities),
        "metrics": metrics_dict(state.metrics),
        "health_checks_failed": state.health_checks_failed,
        "last_health_check": naive_iso(state.last_health_check),
        "created_at": naive_iso(state.created_at),
        "updated_at": naive_iso(state.updated_at),
        "config": config_dict(state.config),
    }
