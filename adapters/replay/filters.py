"""Which events of a hub's log a listing shows: a window of positions
(from times or positions) and filters on stream, instance, type and
correlation id."""

from __future__ import annotations

import difflib
from collections.abc import AsyncGenerator, Iterable
from contextlib import aclosing
from dataclasses import dataclass

from eventstore import EventStore, RecordedEvent, streams
from eventstore.codec import DEFAULT_CODEC
from eventstore.errors import InvalidEventError

from .errors import EmptyRange, InvalidInput
from .timeparse import Point


@dataclass(frozen=True)
class EventFilter:
    """Events after position ``after`` up to ``last`` (inclusive; None: the
    end), of one stream, of one instance, of some types, of one
    correlation id; at most ``limit``."""

    stream: str | None = None
    instance: str | None = None
    types: frozenset[str] = frozenset()
    correlation: str | None = None
    after: int = 0
    last: int | None = None
    limit: int | None = None

    def matches(self, event: RecordedEvent) -> bool:
        if self.stream and event.stream != self.stream:
            return False
        if self.instance and streams.entity_of(event.stream) != self.instance:
            return False
        if self.correlation and event.correlation_id != self.correlation:
            return False
        return not self.types or event.type in self.types

    def check(self) -> EventFilter:
        """Raises: InvalidInput for a stream or type no log can hold, or a bad limit."""
        if self.stream is not None:
            try:
                streams.check_stream(self.stream)
            except InvalidEventError as exc:
                raise InvalidInput(f"bad --stream: {exc}") from None
        unknown = sorted(self.types - set(DEFAULT_CODEC.types))
        if unknown:
            raise _unknown_types(unknown)
        if self.limit is not None and self.limit < 1:
            raise InvalidInput(f"--limit must be at least 1, got {self.limit}")
        return self


def resolve_types(texts: Iterable[str]) -> frozenset[str]:
    """Event type names as typed: comma lists, any case (``healthchanged,LockGranted``).

    Raises: InvalidInput for a name no type has, with the closest one.
    """
    by_lower = {name.lower(): name for name in DEFAULT_CODEC.types}
    wanted = [word.strip() for text in texts for word in text.split(",") if word.strip()]
    unknown = [word for word in wanted if word.lower() not in by_lower]
    if unknown:
        raise _unknown_types(unknown)
    return frozenset(by_lower[word.lower()] for word in wanted)


def _unknown_types(unknown: list[str]) -> InvalidInput:
    known = sorted(DEFAULT_CODEC.types)
    by_lower = {name.lower(): name for name in known}
    guesses = [
        by_lower[g]
        for word in unknown
        for g in difflib.get_close_matches(word.lower(), by_lower, n=1, cutoff=0.7)
    ]
    hint = f" (did you mean {', '.join(guesses)}?)" if guesses else ""
    return InvalidInput(
        f"unknown event type(s) {', '.join(unknown)}{hint}; known: {', '.join(known)}"
    )


@dataclass(frozen=True)
class Window:
    """The part of a log a command looks at, as typed: times or positions."""

    since: Point | None = None
    until: Point | None = None
    from_position: int | None = None
    to_position: int | None = None

    async def positions(self, store: EventStore, hub_id: str) -> tuple[int, int | None]:
        """``(after, last)``: the window is positions after..last (inclusive).

        Raises: EmptyRange for a window that ends before it starts.
        """
        after = 0 if self.from_position is None else max(self.from_position - 1, 0)
        last = self.to_position
        if self.since is not None:
            after = max(after, await self.since.position_before(store, hub_id))
        if self.until is not None:
            until = await self.until.position_in(store, hub_id)
            last = until if last is None else min(last, until)
        if last is not None and last <= after:
            raise EmptyRange(f"empty range in hub {hub_id!r}: {self.describe()} holds no events")
        return after, last

    def describe(self) -> str:
        parts = []
        if self.since is not None:
            parts.append(f"since {self.since.text}")
        if self.until is not None:
            parts.append(f"until {self.until.text}")
        if self.from_position is not None:
            parts.append(f"from position {self.from_position}")
        if self.to_position is not None:
            parts.append(f"to position {self.to_position}")
        return " ".join(parts) or "the whole log"


async def select_events(
    store: EventStore, hub_id: str, selection: EventFilter, *, follow: bool = False
) -> AsyncGenerator[RecordedEvent, None]:
    """The hub's events that ``selection`` matches, in log order; with
    ``follow``, new ones as they are appended (until ``limit`` or ``last``)."""
    source = (
        store.subscribe(hub_id, after=selection.after)
        if follow
        else store.read_log(hub_id, after=selection.after)
    )
    shown = 0
    async with aclosing(source) as events:
        async for event in events:
            if selection.last is not None and event.position > selection.last:
                return
            if selection.matches(event):
                yield event
                shown += 1
                if selection.limit is not None and shown >= selection.limit:
                    return
            if event.position == selection.last:
                return  # the window is complete: following would wait for one event more


def events_between(
    store: EventStore, hub_id: str, after: int, last: int
) -> AsyncGenerator[RecordedEvent, None]:
    """The hub's events at positions ``after`` (exclusive) to ``last``
    (inclusive), in log order.  Cut by position, never by a count of
    ``last - after`` events: retention leaves holes, and such a count reads
    past ``last``."""
    return select_events(store, hub_id, EventFilter(after=after, last=last))
