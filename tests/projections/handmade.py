"""A hub's log made by hand, without a store: events recorded at chosen
times, for folds tested at their edges (exact times, odd orders)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eventstore.envelope import RecordedEvent
from eventstore.events import Event
from projections import HubProjection, HubState, Projection, fold

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """``seconds`` after T0."""
    return T0 + timedelta(seconds=seconds)


class Log:
    """Events of one hub in log order, each recorded at the time given."""

    def __init__(self, hub: str = "pool") -> None:
        self.hub = hub
        self.events: list[RecordedEvent] = []

    def add(self, event: Event, seconds: float, stream: str) -> RecordedEvent:
        recorded = RecordedEvent(
            hub_id=self.hub,
            stream=stream,
            version=1 + sum(e.stream == stream for e in self.events),
            position=len(self.events) + 1,
            event_id=event.event_id,
            type=type(event).__name__,
            schema_version=1,
            recorded_at=at(seconds),
            event=event,
        )
        self.events.append(recorded)
        return recorded

    def state(self, projection: Projection | None = None) -> HubState:
        return fold(projection or HubProjection(), self.events)
