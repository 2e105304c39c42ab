"""Point-in-time state: a hub's instances, locks and summary as they were
at a log position or a time, replayed from the nearest snapshot.

Snapshots are written by the hub projection's runner (``snapshot_every``):
the encoded, trimmed :class:`HubState` at a position.  A snapshot built by
another fingerprint is ignored, so a stale one can cost time, never truth.
"""

from __future__ import annotations

from contextlib import aclosing
from datetime import datetime

import msgspec

from eventstore.store import EventStore

from . import codec
from .errors import InvalidQuery
from .hub import HubInfo, HubProjection, HubState, HubSummary, InstanceState, LeaseState
from .readmodel_store import ReadModelStore
from .tables import trim


class HubView(msgspec.Struct, frozen=True, kw_only=True):
    """A hub as it was at ``position`` (``as_of``: the log's clock then)."""

    hub_id: str
    position: int
    as_of: datetime | None
    hub: HubInfo
    instances: dict[str, InstanceState]
    locks: dict[str, LeaseState]
    summary: HubSummary
    anomaly_counts: dict[str, int]
    replayed: int
    """Events folded on top of the snapshot (or from 0) to get here."""


async def state_at(
    store: EventStore,
    storage: ReadModelStore | None,
    hub_id: str,
    *,
    position: int | None = None,
    time: datetime | None = None,
    projection: HubProjection | None = None,
) -> HubView:
    """The hub at a log ``position``, or at the last event recorded by ``time``.

    Without ``storage`` (or without a usable snapshot) it replays from 0.

    Raises:
        InvalidQuery: neither or both of position and time, a negative
            position, or one beyond the hub's head.
        InvalidEventError: a naive ``time``.
    """
    if (position is None) == (time is None):
        raise InvalidQuery("state_at needs exactly one of position= or time=")
    if time is not None:
        position = await store.position_at(hub_id, time)
    assert position is not None
    head = await store.head(hub_id)
    if position < 0 or position > head:
        raise InvalidQuery(f"position {position} is outside hub {hub_id!r}'s log (0..{head})")
    projection = projection or HubProjection()
    state, start = await _nearest_snapshot(storage, projection, hub_id, position)
    replayed = 0
    if position > start:
        events = store.read_log(hub_id, after=start, limit=position - start)
        async with aclosing(events) as stream:
            async for event in stream:
                if event.position > position:
                    break
                state = trim(projection.apply(state, event))
                replayed += 1
    return HubView(
        hub_id=hub_id,
        position=position,
        as_of=state.meta.clock,
        hub=state.meta.hub,
        instances=state.instances,
        locks=state.locks,
        summary=state.summary,
        anomaly_counts=state.meta.anomaly_counts,
        replayed=replayed,
    )


async def _nearest_snapshot(
    storage: ReadModelStore | None, projection: HubProjection, hub_id: str, position: int
) -> tuple[HubState, int]:
    if storage is not None:
        snapshot = await storage.snapshot(projection.name, hub_id, at_or_before=position)
        if snapshot is not None and snapshot.fingerprint == projection.fingerprint(hub_id):
            state = codec.decode_state(snapshot.data, HubState)
            assert isinstance(state, HubState)
            return state, snapshot.position
    return projection.initial(), 0
