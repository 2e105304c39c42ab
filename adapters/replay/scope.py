"""Which hubs a command covers: the one named (which must exist), or all."""

from __future__ import annotations

from eventstore import streams
from eventstore.store import EventStore
from projections import ReadModelStore, state_at

from .errors import InvalidInput, UnknownHub, UnknownInstance


async def hubs_in_scope(store: EventStore, hub_id: str | None, where: str) -> list[str]:
    """``[hub_id]`` if the log has it, else every hub.

    Raises: UnknownHub (listing the hubs there are).
    """
    known = await store.hubs()
    if hub_id is None:
        return known
    if hub_id not in known:
        raise UnknownHub(hub_id, known, where)
    return [hub_id]


async def one_hub(store: EventStore, hub_id: str | None, where: str, command: str) -> str:
    """The hub named, or the only one there is.

    Raises: UnknownHub; InvalidInput when there are several and none is named.
    """
    hubs = await hubs_in_scope(store, hub_id, where)
    if len(hubs) == 1:
        return hubs[0]
    if not hubs:
        raise (
            UnknownHub(hub_id or "", hubs, where)
            if hub_id
            else InvalidInput(f"{where} holds no hubs yet: nothing to {command}")
        )
    raise InvalidInput(
        f"{where} holds {len(hubs)} hubs ({', '.join(hubs)}): say which with --hub for {command}"
    )


async def hubs_with_instance(store: EventStore, hubs: list[str], instance: str) -> list[str]:
    """The hubs whose log has a stream of ``instance`` (instance/, metrics/ or lock/)."""
    named = (streams.instance(instance), streams.metrics(instance), streams.lease(instance))
    found = []
    for hub in hubs:
        for stream in named:
            if await store.stream_version(hub, stream):
                found.append(hub)
                break
    return found


async def unknown_instance(
    store: EventStore, storage: ReadModelStore | None, hubs: list[str], instance: str, where: str
) -> UnknownInstance:
    """The error for an instance none of ``hubs`` has, listing those they have."""
    known: set[str] = set()
    for hub in hubs:
        view = await state_at(store, storage, hub, position=await store.head(hub))
        known.update(view.instances)
    return UnknownInstance(instance, hubs, sorted(known), where)


async def instance_hub(
    store: EventStore, storage: ReadModelStore | None, hub_id: str | None, instance: str, where: str
) -> str:
    """The hub holding ``instance``: the one named, or the only one that has it.

    Raises: UnknownHub; UnknownInstance (listing the instances there are);
    InvalidInput when several hubs have it.
    """
    hubs = await hubs_in_scope(store, hub_id, where)
    having = await hubs_with_instance(store, hubs, instance)
    if len(having) == 1:
        return having[0]
    if len(having) > 1:
        raise InvalidInput(
            f"instance {instance!r} is in hubs {', '.join(having)}: pick one with --hub"
        )
    raise await unknown_instance(store, storage, hubs, instance, where)
