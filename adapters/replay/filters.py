"""Which events of a hub's log a listing shows."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass

from eventstore import EventStore, RecordedEvent


@dataclass(frozen=True)
class EventFilter:
    """Events of one stream and/or of some types, after a position, at most ``limit``."""

    stream: str | None = None
    types: frozenset[str] = frozenset()
    after: int = 0
    limit: int | None = None

    def matches(self, event: RecordedEvent) -> bool:
        if self.stream and event.stream != self.stream:
            return False
        return not self.types or event.type in self.types


async def select_events(
    store: EventStore, hub_id: str, selection: EventFilter, *, follow: bool = False
) -> AsyncGenerator[RecordedEvent, None]:
    """The hub's events that ``selection`` matches, in log order; with
    ``follow``, new ones as they are appended (until ``limit``)."""
    source = (
        store.subscribe(hub_id, after=selection.after)
        if follow
        else store.read_log(hub_id, after=selection.after)
    )
    shown = 0
    async with aclosing(source) as events:
        async for event in events:
            if not selection.matches(event):
                continue
            yield event
            shown += 1
            if selection.limit is not None and shown >= selection.limit:
                return
