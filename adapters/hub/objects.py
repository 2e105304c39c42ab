"""Gleitzeit objects rebuilt from the log: the one module that imports
Gleitzeit, lazily, and only when ``restore`` runs (Gleitzeit is an optional
extra: ``pip install 'hublog[gleitzeit]'``)."""

from __future__ import annotations

import importlib
from datetime import UTC
from typing import Any

from eventstore.values import CustomConfig, DockerConfig, Metrics, OllamaConfig
from projections import InstanceState

from .convert import config_dict


def _module(name: str) -> Any:
    return importlib.import_module(f"gleitzeit.hub.{name}")


def metrics_object(metrics: Metrics) -> Any:
    """A ``gleitzeit.hub.base.ResourceMetrics`` with every field of ``metrics``."""
    fields = {f: getattr(metrics, f) for f in Metrics.__struct_fields__}
    fields["custom_metrics"] = dict(metrics.custom_metrics)
    last = metrics.last_updated
    if last is None:
        fields.pop("last_updated")
    else:
        # Gleitzeit keeps naive UTC
        fields["last_updated"] = last.astimezone(UTC).replace(tzinfo=None)
    return _module("base").ResourceMetrics(**fields)


def config_object(config: Any) -> Any:
    """The config dataclass the log's config came from (a ``CustomConfig``
    whose class cannot be imported comes back as a dict of its fields)."""
    if config is None:
        return None
    fields = config_dict(config) or {}
    if isinstance(config, OllamaConfig):
        return _module("configs").OllamaConfig(**fields)
    if isinstance(config, DockerConfig):
        return _module("configs").DockerConfig(**fields)
    assert isinstance(config, CustomConfig)
    module, _, name = config.type_name.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)(**fields)
    except (ImportError, AttributeError, TypeError, ValueError):
        return fields


def instance_object(state: InstanceState) -> Any:
    """A ``gleitzeit.hub.base.ResourceInstance`` as the log has it, config included."""
    base = _module("base")

    def naive(value: Any) -> Any:
        return None if value is None else value.astimezone(UTC).replace(tzinfo=None)

    return base.ResourceInstance(
        id=state.id,
        name=state.name,
        type=base.ResourceType(state.resource_type.value),
        endpoint=state.endpoint,
        status=base.ResourceStatus(state.status.value),
        metadata=dict(state.metadata),
        tags=set(state.tags),
        capabilities=set(state.capabilities),
        metrics=metrics_object(state.metrics),
        health_checks_failed=state.health_checks_failed,
        last_health_check=naive(state.last_health_check),
        created_at=naive(state.created_at),
        updated_at=naive(state.updated_at),
        config=config_object(state.config),
    )


def status_object(value: str) -> Any:
    return _module("base").ResourceStatus(value)
