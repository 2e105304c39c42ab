"""An instance stream's changes: what this process knows of the stream, and
the one decide loop over it (what the hub API's saves, deregistrations and
health records run).

Deciding needs the instance's state and the version it is at, and that read
must not grow with the stream's history (a healthy instance saved on every
30-second check writes ~2,900 events a day).  :class:`InstanceViews` keeps
both per instance, in this process:

- **warm** (the usual case): the view it holds — every append expects the
  view's version, so a stale view costs a lost race, never a wrong write.
  A save is then one round trip: the conditional append.
- **first sight** of an instance: the hub read model's row (which carries
  the version it folded, ``InstanceState.version``; the adapter keeps that
  model current) plus the stream's tail after that version — one read, as
  long as the read model is.  Without a row, the tail is the whole stream.
- **after a lost race**: only the tail after the view's version.
- **after our own append**: the appended events folded onto the view here,
  stamped with this process's clock (``recorded_at`` feeds only the row's
  times, which no decision reads: ``adapters/hub/changes.py`` decides from
  status, failure count, last check and descriptive fields, all payload).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from datetime import UTC, datetime

from eventstore import streams
from eventstore.envelope import RecordedEvent
from eventstore.events import Event
from eventstore.store import EventStore
from projections import HubProjection, HubState, InstanceState

from .loop import Appended, Target, decide_and_append

_FOLD = HubProjection()

Decide = Callable[[InstanceState | None], Sequence[Event]]
"""The events that bring the instance's stream to what the caller saw
(none: nothing to change)."""
Seed = Callable[[str, str], Awaitable[InstanceState | None]]
"""A first guess at an instance's state with its version (the hub read
model's row), or None."""


async def _no_seed(hub_id: str, instance_id: str) -> InstanceState | None:
    return None


class InstanceViews:
    """The instances of every hub as far as this process knows them, each
    with the version of its stream it has folded.  ``seed`` gives the first
    guess for an instance not seen yet."""

    def __init__(self, seed: Seed = _no_seed) -> None:
        self.seed = seed
        self._views: dict[tuple[str, str], InstanceState | None] = {}

    async def current(
        self, store: EventStore, hub_id: str, instance_id: str
    ) -> tuple[InstanceState | None, int]:
        """The instance as its stream says now (its tail read), and the version.

        Raises: BackendUnavailable, InvalidEventError (a bad id), StoreClosed.
        """
        key = (hub_id, instance_id)
        if key not in self._views:
            self._views[key] = await self.seed(hub_id, instance_id)
        view = await self._caught_up(store, hub_id, instance_id, self._views[key])
        self._views[key] = view
        return view, _version(view)

    def known(self, hub_id: str, instance_id: str) -> tuple[InstanceState | None, int] | None:
        """The view held (no read at all), or None when there is none yet."""
        key = (hub_id, instance_id)
        if key not in self._views:
            return None
        view = self._views[key]
        return view, _version(view)

    def appended(
        self, hub_id: str, instance_id: str, version: int, events: Sequence[Event]
    ) -> None:
        """Fold events this process just appended, the first at ``version + 1``."""
        key = (hub_id, instance_id)
        stream = streams.instance(instance_id)
        now = datetime.now(UTC)
        recorded = [
            _recorded(hub_id, stream, version + n, event, now)
            for n, event in enumerate(events, start=1)
        ]
        self._views[key] = _fold(self._views.get(key), recorded)

    async def _caught_up(
        self, store: EventStore, hub_id: str, instance_id: str, view: InstanceState | None
    ) -> InstanceState | None:
        stream = streams.instance(instance_id)
        read = store.read_stream(hub_id, stream, after_version=_version(view))
        async with aclosing(read) as events:
            tail = [event async for event in events]
        return _fold(view, tail) if tail else view


async def change(
    store: EventStore,
    hub_id: str,
    instance_id: str,
    decide: Decide,
    views: InstanceViews | None = None,
) -> int:
    """Decide from the instance's view what to append, append it expecting
    the view's version; on a lost race catch the view up (the tail only) and
    decide again.  Returns how many events were appended (0: nothing to change).

    Raises: WrongExpectedVersion after ATTEMPTS lost races; BackendUnavailable
    once retries of the same events run out; InvalidEventError.
    """
    views = views if views is not None else InstanceViews()
    attempts, read_at = 0, 0

    async def read() -> tuple[InstanceState | None, int]:
        nonlocal attempts, read_at
        attempts += 1
        held = views.known(hub_id, instance_id)
        if held is None or attempts > 1:  # first sight, or a lost race: read the tail
            held = await views.current(store, hub_id, instance_id)
        read_at = held[1]  # a stale view costs a lost race, never a wrong write
        return held

    appended = await decide_and_append(
        store,
        Target(hub_id, streams.instance(instance_id)),
        read,
        lambda state: Appended(tuple(decide(state))),
    )
    if appended is None or not appended.events:
        return 0
    views.appended(hub_id, instance_id, read_at, appended.events)
    return len(appended.events)


async def current(
    store: EventStore, hub_id: str, instance_id: str
) -> tuple[InstanceState | None, int]:
    """The instance as its whole stream says, and the stream's version (for
    a one-off read; repeated ones keep an :class:`InstanceViews`).

    Raises: BackendUnavailable, InvalidEventError (a bad id), StoreClosed.
    """
    return await InstanceViews().current(store, hub_id, instance_id)


def _fold(view: InstanceState | None, events: Sequence[RecordedEvent]) -> InstanceState | None:
    if not events:
        return view
    instance_id = streams.entity_of(events[0].stream) or ""
    state: HubState = _FOLD.initial()
    if view is not None:
        state = HubState(instances={instance_id: view})
    for event in events:  # the instance fold alone: no hub clock or position to advance
        state = _FOLD.evolve(state, event)
    return state.instances.get(instance_id)


def _version(view: InstanceState | None) -> int:
    return view.version if view is not None else 0


def _recorded(hub_id: str, stream: str, version: int, event: Event, at: datetime) -> RecordedEvent:
    return RecordedEvent(
        hub_id=hub_id,
        stream=stream,
        version=version,
        position=0,  # not known here, and not read by the instance fold
        event_id=event.event_id,
        type=type(event).__name__,
        schema_version=1,
        recorded_at=at,
        event=event,
    )
