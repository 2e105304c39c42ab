"""The Redis import: one ``import.lua`` call per batch, alone on the hub's
node, so it is atomic and no append interleaves (see the script for the
steps; the rule is :mod:`eventstore.importing`'s)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import redis

from eventstore.envelope import StoredEvent
from eventstore.importing import conflict

from . import scripts as redis_scripts
from .keys import HubKeys

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def import_batch(node: redis.Redis, keys: HubKeys, batch: Sequence[StoredEvent]) -> int:
    """Raises: DuplicateEventError when the hub's log disagrees (nothing written)."""
    reply = redis_scripts.IMPORT(node, [*keys.all(), keys.foreign], _args(batch))
    if reply[0] == b"ok":
        return int(reply[1])
    event, what, detail = batch[int(reply[1]) - 1], reply[2].decode(), reply[3]
    raise conflict(event, _why(event, what, detail))


def _why(event: StoredEvent, what: str, detail: bytes) -> str:
    """The reason :func:`eventstore.importing.new_events` gives, word for word."""
    if what == "moved":
        stream, version, position = detail.split(b"\0")
        return (
            f"the log has this event id at position {int(position)} "
            f"(stream {stream.decode()!r}, version {int(version)})"
        )
    if what == "behind":
        return f"the log already reaches position {int(detail)} without it"
    if what == "version":
        return f"stream {event.stream!r} is already at version {int(detail)}"
    clock = EPOCH + int(detail) * MICROSECOND
    return f"it was recorded before the log's last event ({clock})"


def _args(batch: Sequence[StoredEvent]) -> list[str | bytes]:
    args: list[str | bytes] = [str(len(batch))]
    for e in batch:
        args += [
            str(e.event_id),
            e.stream,
            str(e.version),
            str(e.position),
            e.type,
            str(e.schema_version),
            e.data,
            str((e.recorded_at - EPOCH) // MICROSECOND),
            "" if e.correlation_id is None else "=" + e.correlation_id,
            "" if e.causation_id is None else "=" + e.causation_id,
        ]
    return args
