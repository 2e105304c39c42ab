"""Which hubs a command covers: the one named (which must exist), or all."""

from __future__ import annotations

from eventstore.store import EventStore

from .errors import InvalidInput, UnknownHub


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
