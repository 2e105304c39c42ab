"""Which hubs have a stream: a Set per stream name (``keys.stream_hubs``).

A hub is added before its first append to a stream in this process — ahead
of it, so a crash between the two leaves a hub too many (readers check the
stream's version), never one too few.  A log written before the index was
kept is indexed once, from every hub's ``versions`` hash, by the first
reader; the marker key says that was done.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import keys as redis_keys
from .connection import Nodes


def add(nodes: Nodes, prefix: str, hub_id: str, streams: Iterable[str]) -> None:
    for stream in streams:
        key = redis_keys.stream_hubs(prefix, stream)
        nodes.for_key(key).sadd(key, hub_id)


def hubs_of(nodes: Nodes, prefix: str, stream: str) -> list[str]:
    key = redis_keys.stream_hubs(prefix, stream)
    return sorted(_text(member) for member in nodes.for_key(key).smembers(key))


def build_once(nodes: Nodes, prefix: str, hubs: Iterable[str]) -> None:
    """Index every stream of ``hubs`` unless the marker says it was done."""
    marker = redis_keys.stream_index_built(prefix)
    node = nodes.for_key(marker)
    if node.exists(marker):
        return
    for hub_id in hubs:
        versions = redis_keys.HubKeys.of(prefix, hub_id).versions
        streams = [_text(s) for s in nodes.for_key(versions).hkeys(versions)]
        add(nodes, prefix, hub_id, streams)
    node.set(marker, "1")


def _text(reply: bytes | str) -> str:
    # Replies are bytes (the clients are made without decode_responses).
    return reply.decode() if isinstance(reply, bytes) else reply
