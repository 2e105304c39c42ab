"""An event as one line: aligned text for people, JSON for programs.

The JSON object carries the envelope's own field names (hub_id, stream,
version, position, event_id, type, recorded_at, …) and the payload under
``event``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from eventstore import RecordedEvent, UnknownEvent

from .plain import plain

HEADERS = ("position", "recorded_at (UTC)", "stream@version", "type", "details")


def text_line(event: RecordedEvent) -> str:
    when = timestamp(event.recorded_at)
    return f"{event.position:>7}  {when}  {event.stream}@{event.version}  {event.type}  {summary(event)}"


def cells(event: RecordedEvent) -> list[str]:
    """One row of the events table (see :data:`HEADERS`)."""
    return [
        str(event.position),
        timestamp(event.recorded_at),
        f"{event.stream}@{event.version}",
        event.type,
        summary(event),
    ]


def timestamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def summary(event: RecordedEvent, width: int | None = None) -> str:
    """The payload's set fields as ``key=value``, whole, or cut to ``width``."""
    fields = payload(event)
    fields.pop("type", None)
    fields.pop("event_id", None)
    return cut(
        " ".join(f"{k}={v}" for k, v in fields.items() if v not in (None, {}, [], "")), width
    )


def cut(text: str, width: int | None) -> str:
    """``text`` in at most ``width`` characters, ``…`` marking a cut (None: whole)."""
    if width is None or len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + "…"


def payload(event: RecordedEvent) -> dict[str, Any]:
    """The event's fields as plain data; what is known of an unknown or
    unreadable one."""
    if isinstance(event.event, UnknownEvent):
        try:
            data = event.event.data()
        except msgspec.DecodeError as exc:  # not even MessagePack: a log may hold it
            return {"error": str(exc)}
        return data if isinstance(data, dict) else {"payload": data}
    if not event.is_readable:
        return {"error": getattr(event.event, "error", "unreadable")}
    return plain(event.event)  # every field, sets and keys sorted: stable output


def json_line(event: RecordedEvent) -> str:
    envelope = {f: getattr(event, f) for f in event.__struct_fields__ if f != "event"}
    envelope["event"] = payload(event)
    return msgspec.json.encode(envelope).decode()


class HubClock:
    """When things happened by the hub's own clock, as the log tells it.

    Checks and samples carry their time (``checked_at``, ``sampled_at``);
    other events only ``recorded_at``, the backend's clock at append.  The
    two agree on a live hub, but not on a log written in a burst (a replay,
    a simulation): so an event without a time of its own is placed at its
    ``recorded_at`` shifted by the offset of the last event that had one.
    Read events in log order.
    """

    def __init__(self) -> None:
        self.offset: timedelta | None = None

    def prime(self, events: Iterable[RecordedEvent]) -> HubClock:
        """Start from the offset of the first event with a time of its own,
        so events before it are placed alike."""
        for event in events:
            own = _own_time(event)
            if own is not None:
                self.offset = own - event.recorded_at
                break
        return self

    def at(self, event: RecordedEvent) -> datetime:
        own = _own_time(event)
        if own is not None:
            self.offset = own - event.recorded_at
            return own
        return event.recorded_at + (self.offset or timedelta(0))


def _own_time(event: RecordedEvent) -> datetime | None:
    own = getattr(event.event, "sampled_at", None) or getattr(event.event, "checked_at", None)
    return own if isinstance(own, datetime) else None
