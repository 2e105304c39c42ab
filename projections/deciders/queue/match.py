"""Which instances can serve which requests: the one matching rule, used by
the reserve loop, the FIFO rule and the log checker alike."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from eventstore.events import Requirements
from eventstore.values import OllamaConfig
from projections.hub.state import InstanceState

from .errors import InvalidReservation


def matches(requirements: Requirements, instance: InstanceState) -> bool:
    """Can ``instance`` serve a request with ``requirements``?  (Availability
    is not judged here: the FIFO rule asks this of instances that are full.)"""
    r = requirements
    if r.instances and instance.id not in r.instances:
        return False
    if r.resource_type is not None and instance.resource_type != r.resource_type:
        return False
    if not set(r.tags) <= instance.tags or not set(r.capabilities) <= instance.capabilities:
        return False
    return set(r.models) <= models_of(instance)


def models_of(instance: InstanceState) -> set[str]:
    """The models an instance serves: an Ollama server's configured models,
    and its capabilities (Gleitzeit lists models there too)."""
    models = set(instance.capabilities)
    if isinstance(instance.config, OllamaConfig):
        models.update(instance.config.models)
    return models


def requirements_of(value: Requirements | Mapping[str, Any] | None) -> Requirements:
    """``Requirements`` from itself, None (anything) or a dict with its fields
    (``{"models": ["llama3"], "resource_type": "ollama"}``).

    Raises: InvalidReservation naming what is wrong.
    """
    if value is None:
        return Requirements()
    if isinstance(value, Requirements):
        return value
    if not isinstance(value, Mapping):
        raise InvalidReservation(f"requirements must be a Requirements or a dict, got {value!r}")
    fields = {k: _listed(k, v) if k != "resource_type" else v for k, v in value.items()}
    try:
        return msgspec.convert(fields, Requirements, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidReservation(f"requirements {dict(value)!r}: {exc}") from exc


def _listed(key: str, value: Any) -> Any:
    # A set or a single string is what a caller means by "these" / "this one".
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        return tuple(sorted(value))
    return value
