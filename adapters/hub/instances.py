"""Where an instance id lives, and appends that decide nothing.

An instance's changes are decided in :mod:`projections.deciders.instances`
(the one decide loop); this module finds the hub an instance is registered
in and appends hub and metrics events, whose streams no decision reads.
"""

from __future__ import annotations

from eventstore import streams
from eventstore.envelope import ANY
from eventstore.events import Event
from eventstore.store import EventStore
from projections.deciders.instances import InstanceViews
from projections.deciders.loop import Target, append_retrying


async def append_any(store: EventStore, hub_id: str, stream: str, events: list[Event]) -> None:
    """Append without a version check (hub and metrics events: no decision
    depends on their stream's state), retrying the same events on a timeout.

    Raises: BackendUnavailable once retries run out; InvalidEventError.
    """
    await append_retrying(store, Target(hub_id, stream), events, ANY)


async def hubs_with(store: EventStore, stream: str) -> list[str]:
    """The hubs whose log has ``stream``: one index lookup, however many hubs.

    Raises: BackendUnavailable, StoreClosed.
    """
    return await store.hubs_with_stream(stream)


async def live_hub(
    store: EventStore, views: InstanceViews, instance_id: str, hint: str | None
) -> str | None:
    """The hub where ``instance_id`` is registered now (``hint`` is tried
    first: the hub this adapter last saw it in), or None.  Each hub's answer
    is its view of the instance caught up: its tail read, not its history.

    Raises: BackendUnavailable, StoreClosed.
    """
    if hint is not None:
        held = views.known(hint, instance_id)
        if held is not None and held[0] is not None and held[0].registered:
            # Known live here: no read.  Another process's deregistration of
            # a moment ago is then seen by the next write that decides (its
            # expected version), not by this lookup.
            return hint
        state, _ = await views.current(store, hint, instance_id)
        if state is not None and state.registered:
            return hint
    for hub_id in await hubs_with(store, streams.instance(instance_id)):
        if hub_id == hint:
            continue
        state, _ = await views.current(store, hub_id, instance_id)
        if state is not None and state.registered:
            return hub_id
    return None
