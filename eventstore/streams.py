"""Names inside the log: hub ids and streams, and the checks they must pass.

A stream names one entity of a hub: ``hub``, ``instance/<id>``,
``metrics/<id>``, ``lock/<resource_id>`` or ``queue/<name>`` (the hub's
reservation queue is ``queue/reserve``; Gleitzeit's saved queue states are
``queue/saved/<queue_name>``).  The checks are the same on every
backend, so a name that one backend accepts no other refuses (Redis keys use
``{hub_id}`` as the cluster hash tag, hence no braces anywhere).
"""

from __future__ import annotations

import unicodedata
from uuid import UUID

from .errors import InvalidEventError

MAX_NAME_LENGTH = 200

HUB = "hub"
CATEGORIES = ("hub", "instance", "metrics", "lock", "queue")
RESERVE = "reserve"
"""The name of a hub's reservation queue: ``queue/reserve``."""


def instance(instance_id: str) -> str:
    return f"instance/{instance_id}"


def metrics(instance_id: str) -> str:
    return f"metrics/{instance_id}"


def lease(resource_id: str) -> str:
    """The stream of a resource's leases.  Stored as ``lock/<id>`` (and its
    events as ``Lock*``) since the first logs: names on disk never change."""
    return f"lock/{resource_id}"


def queue(name: str = RESERVE) -> str:
    return f"queue/{name}"


def saved_queue(queue_name: str) -> str:
    """Where Gleitzeit's ``save_queue_state(queue_name, …)`` is kept."""
    return f"queue/saved/{queue_name}"


def category_of(stream: str) -> str:
    """``"instance/a"`` -> ``"instance"``; ``"hub"`` -> ``"hub"``."""
    return stream.split("/", 1)[0]


def entity_of(stream: str) -> str | None:
    """``"instance/a"`` -> ``"a"``; ``"hub"`` -> ``None``."""
    _, sep, rest = stream.partition("/")
    return rest if sep else None


# Control and format characters, line/paragraph separators, and surrogates
# (a lone surrogate cannot be encoded as UTF-8 by any driver).
_REFUSED_CATEGORIES = ("Cc", "Cf", "Zl", "Zp", "Cs")


def _bad_characters(name: str) -> list[str]:
    return sorted(
        {ch for ch in name if ch in "{}" or unicodedata.category(ch) in _REFUSED_CATEGORIES}
    )


def check_name(what: str, name: object) -> str:
    """Return ``name`` if it is usable as a hub id or stream name, else raise.

    Raises:
        InvalidEventError: not a string, empty, too long, or containing braces
            or control characters.
    """
    if not isinstance(name, str):
        raise InvalidEventError(f"{what} must be a str, got {type(name).__name__}: {name!r}")
    if not name or name.strip() != name:
        raise InvalidEventError(f"{what} must be non-empty without surrounding spaces: {name!r}")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidEventError(
            f"{what} is longer than {MAX_NAME_LENGTH} characters: {name[:40]!r}…"
        )
    bad = _bad_characters(name)
    if bad:
        raise InvalidEventError(f"{what} {name!r} contains characters the log refuses: {bad!r}")
    return name


def check_stream(stream: object) -> str:
    """Check a stream name: ``hub`` or ``<category>/<non-empty id>``.

    Raises:
        InvalidEventError: see :func:`check_name`; also an unknown category or
            an empty entity id.
    """
    name = check_name("stream", stream)
    category, sep, entity = name.partition("/")
    if category not in CATEGORIES:
        raise InvalidEventError(
            f"stream {name!r} has unknown category {category!r}; expected one of {CATEGORIES}"
        )
    if (category == HUB) == bool(sep):
        raise InvalidEventError(
            f"stream {name!r} is malformed: 'hub' stands alone, the others are '<category>/<id>'"
        )
    if sep and not entity:
        raise InvalidEventError(f"stream {name!r} has an empty entity id")
    return name


def check_id(what: str, value: object) -> str | None:
    """A correlation or causation id as stored: None, or a string (a UUID is
    taken as its text) that fits the column — at most MAX_NAME_LENGTH
    characters, no control characters or surrogates.

    Raises: InvalidEventError naming ``what``.
    """
    if value is None:
        return None
    if isinstance(value, UUID):
        return str(value)
    if not isinstance(value, str):
        raise InvalidEventError(f"{what} must be a str or UUID, got {type(value).__name__}")
    if not value or len(value) > MAX_NAME_LENGTH:
        raise InvalidEventError(
            f"{what} must be 1..{MAX_NAME_LENGTH} characters, got {len(value)}: {value[:40]!r}"
        )
    bad = sorted({ch for ch in value if unicodedata.category(ch) in _REFUSED_CATEGORIES})
    if bad:
        raise InvalidEventError(f"{what} {value!r} contains characters the log refuses: {bad!r}")
    return value
