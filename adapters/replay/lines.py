"""An event as one line: aligned text for people, JSON for programs.

The JSON object carries the envelope's own field names (hub_id, stream,
version, position, event_id, type, recorded_at, …) and the payload under
``event``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from eventstore import RecordedEvent, UnknownEvent

SUMMARY_WIDTH = 100


def text_line(event: RecordedEvent) -> str:
    when = event.recorded_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return f"{event.position:>7}  {when}  {event.stream}@{event.version}  {event.type}  {summary(event)}"


def summary(event: RecordedEvent) -> str:
    """The payload's set fields as ``key=value``, cut to one screen line."""
    fields = payload(event)
    fields.pop("type", None)
    fields.pop("event_id", None)
    text = " ".join(f"{k}={v}" for k, v in fields.items() if v not in (None, {}, [], ""))
    return text if len(text) <= SUMMARY_WIDTH else text[: SUMMARY_WIDTH - 1] + "…"


def payload(event: RecordedEvent) -> dict[str, Any]:
    """The event's fields as plain data; what is known of an unknown or
    unreadable one."""
    if isinstance(event.event, UnknownEvent):
        data = event.event.data()
        return data if isinstance(data, dict) else {"payload": data}
    if not event.is_readable:
        return {"error": getattr(event.event, "error", "unreadable")}
    return msgspec.to_builtins(event.event)


def json_line(event: RecordedEvent) -> str:
    envelope = {f: getattr(event, f) for f in event.__struct_fields__ if f != "event"}
    envelope["event"] = payload(event)
    return msgspec.json.encode(envelope).decode()
