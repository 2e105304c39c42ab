"""The import rule: which events of a copied log are new, and when the log
that receives them disagrees.  Shared by every backend's ``_import_events``
(the Redis script mirrors it in ``adapters/redis/lua/import.lua``).

An imported event keeps everything the source log recorded: position,
stream version, event id, ``recorded_at`` and payload bytes.  So a copy is
only ever a continuation: an event already here (same id at the same
position, stream and version) is skipped, a new one must come after the
hub's head, above its stream's version, and no earlier than the hub's last
``recorded_at`` (readers bisect on it).  Anything else means the two logs
disagree, and nothing of the batch is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from . import streams
from .envelope import StoredEvent
from .errors import DuplicateEventError, InvalidEventError

SAMPLE_TYPE = "MetricsSampled"
Place = tuple[str, int, int]
"""(stream, version, position) of an event already in the log."""


@dataclass
class LogEnd:
    """Where the receiving hub's log ends: head, last recorded_at, stream versions."""

    head: int
    clock: datetime | None
    versions: dict[str, int] = field(default_factory=dict)


def check_batch(hub_id: str, events: Sequence[StoredEvent]) -> None:
    """Raises: InvalidEventError for a batch that is not a piece of one hub's
    log in position order (the caller's mistake, whatever the log holds);
    DuplicateEventError for a batch that repeats an event id (a log holds
    each id once)."""
    previous: StoredEvent | None = None
    seen: dict[UUID, int] = {}
    for event in events:
        if not isinstance(event, StoredEvent):
            raise InvalidEventError(f"import takes StoredEvent records, got {type(event).__name__}")
        if event.hub_id != hub_id:
            raise InvalidEventError(
                f"event {event.event_id} belongs to hub {event.hub_id!r}, not {hub_id!r}"
            )
        streams.check_stream(event.stream)
        if event.position < 1 or event.version < 1:
            raise InvalidEventError(
                f"event {event.event_id} has position {event.position}, version {event.version}: "
                "both must be >= 1"
            )
        if event.recorded_at.utcoffset() is None:  # naive, or a tzinfo without an offset
            raise InvalidEventError(f"event {event.event_id} has a naive recorded_at")
        if previous is not None and event.position <= previous.position:
            raise InvalidEventError(
                f"import batch for hub {hub_id!r} is not in position order: "
                f"{event.position} after {previous.position}"
            )
        first = seen.get(event.event_id)
        if first is not None:
            raise DuplicateEventError(
                f"import batch for hub {hub_id!r} repeats event id {event.event_id} "
                f"(positions {first} and {event.position})"
            )
        seen[event.event_id] = event.position
        previous = event


def new_events(
    events: Sequence[StoredEvent],
    written: Mapping[UUID, Place],
    end: LogEnd,
) -> list[StoredEvent]:
    """The events of ``events`` that the log does not hold yet.

    ``written`` maps the batch's ids already in the log to where they are.
    ``end`` is updated to where the log will end once they are written.

    Raises: DuplicateEventError (opening "Import conflict") when the log
    disagrees with the batch; the message names hub, stream and position.
    """
    fresh = []
    for event in events:
        place = (event.stream, event.version, event.position)
        found = written.get(event.event_id)
        if found is not None:
            if found != place:
                raise conflict(event, f"the log has this event id at {_where(found)}")
            continue
        if event.position <= end.head:
            if _removed_sample(event):
                continue  # retention here already removed it: not brought back
            raise conflict(event, f"the log already reaches position {end.head} without it")
        current = end.versions.get(event.stream, 0)
        if event.version <= current:
            raise conflict(event, f"stream {event.stream!r} is already at version {current}")
        if end.clock is not None and event.recorded_at < end.clock:
            raise conflict(event, f"it was recorded before the log's last event ({end.clock})")
        end.head, end.clock = event.position, event.recorded_at
        end.versions[event.stream] = event.version
        fresh.append(event)
    return fresh


def _removed_sample(event: StoredEvent) -> bool:
    return event.type == SAMPLE_TYPE and streams.category_of(event.stream) == "metrics"


def _where(place: Place) -> str:
    stream, version, position = place
    return f"position {position} (stream {stream!r}, version {version})"


def conflict(event: StoredEvent, why: str) -> DuplicateEventError:
    return DuplicateEventError(
        f"Import conflict: {event.type} {event.event_id} at "
        f"{_where((event.stream, event.version, event.position))} of hub {event.hub_id!r}: "
        f"{why}; the logs disagree, nothing of this batch was written"
    )
