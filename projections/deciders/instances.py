"""An instance stream's changes: the state its stream folds to, and the one
decide loop over it (what the hub API's saves, deregistrations and health
records run).

The state is the fold of the instance's own stream (short: lifecycle and
health changes only), read with the version it is at; a writer that lost
the race reads and decides again, so two processes saving one instance
never lose an update or register it twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import aclosing

from eventstore import streams
from eventstore.events import Event
from eventstore.store import EventStore
from projections import HubProjection, HubState, InstanceState

from .loop import Appended, Target, decide_and_append

_FOLD = HubProjection()

Decide = Callable[[InstanceState | None], Sequence[Event]]
"""The events that bring the instance's stream to what the caller saw
(none: nothing to change)."""


async def current(
    store: EventStore, hub_id: str, instance_id: str
) -> tuple[InstanceState | None, int]:
    """The instance as its stream says now, and the stream's version.

    Raises: BackendUnavailable, InvalidEventError (a bad id), StoreClosed.
    """
    state: HubState = _FOLD.initial()
    version = 0
    async with aclosing(store.read_stream(hub_id, streams.instance(instance_id))) as events:
        async for event in events:
            state = _FOLD.apply(state, event)
            version = event.version
    return state.instances.get(instance_id), version


async def change(store: EventStore, hub_id: str, instance_id: str, decide: Decide) -> int:
    """Read the instance, ``decide`` what to append, append it expecting the
    version read; on a lost race do it all again.  Returns how many events
    were appended (0: nothing to change).

    Raises: WrongExpectedVersion after ATTEMPTS lost races; BackendUnavailable
    once retries of the same events run out; InvalidEventError.
    """
    appended = await decide_and_append(
        store,
        Target(hub_id, streams.instance(instance_id)),
        lambda: current(store, hub_id, instance_id),
        lambda state: Appended(tuple(decide(state))),
    )
    return len(appended.events) if appended is not None else 0
