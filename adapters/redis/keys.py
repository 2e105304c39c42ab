"""Every Redis key the Redis backend uses, in one place.

All keys of one hub carry the hash tag ``{<hub_id>}``, so a hub lives in one
Redis Cluster slot and one Lua script may touch all of them.  Hub ids and
stream names never contain braces or control characters
(``eventstore/streams.py`` refuses them), and the key prefix may not contain
braces (:func:`check_prefix`), so the hub id is always the key's hash tag.

Per hub, five keys::

    <prefix>:{<hub>}:log       Stream   the hub's log; entry id "<position>-0"
    <prefix>:{<hub>}:meta      Hash     head (last position), clock (last
                                        recorded_at, µs), retried (count)
    <prefix>:{<hub>}:versions  Hash     stream -> version
    <prefix>:{<hub>}:ids       Hash     event_id -> "stream NUL version NUL position"
                                        (kept when retention deletes the event)
    <prefix>:{<hub>}:index     ZSet     "stream NUL <version, 16 digits> NUL position",
                                        all scores 0: a stream's events by version

and, only once another tool wrote into the log, ``<prefix>:{<hub>}:foreign``
(Hash: entry id -> the entry's fields as JSON): entries that are not
hublog's (an id other than ``<position>-0`` with position <= head), set
aside by the next append so the hub stays writable; readers step over them.

A log entry's fields: ``s`` stream, ``v`` version, ``id`` event id, ``t``
type, ``sv`` schema version, ``d`` payload (MessagePack), ``at`` recorded_at
(µs since the epoch, from Redis ``TIME``), and, only when set, ``c``
correlation id and ``k`` causation id.

``meta`` is written by every append and never removed, so it doubles as the
hub registry: :meth:`RedisEventStore.hubs` SCANs each node for
``<prefix>:{*}:meta``.

Read models, per hub and projection, under the same hash tag (one Cluster
slot, so one script may touch them all)::

    <prefix>:{<hub>}:rm:<projection>:cp          Hash  position, fingerprint
    <prefix>:{<hub>}:rm:<projection>:tables      Set   tables that hold rows
    <prefix>:{<hub>}:rm:<projection>:k:<table>   ZSet  row keys, all scores 0 (lex order)
    <prefix>:{<hub>}:rm:<projection>:r:<table>   Hash  row key -> row (MessagePack)
    <prefix>:{<hub>}:rm:<projection>:snaps       ZSet  snapshot positions
    <prefix>:{<hub>}:rm:<projection>:snapdata    Hash  position -> data, position:fp -> fingerprint

and one registry of the hubs with a read model, a hint only (it may name a
hub whose model was never committed; readers check the checkpoint)::

    <prefix>:rm:hubs:<projection>                Set   hub ids

Which hubs have a stream (``hubs_with_stream``: an instance id's hub),
written ahead of a hub's first append to a stream, so it may name a hub
whose append then failed (readers check the stream's version), never miss
one; the marker says the index holds every stream written before it was
kept (built once from the hubs' ``versions``)::

    <prefix>:streams:<stream>                    Set   hub ids
    <prefix>:streams-indexed                     String "1"
"""

from __future__ import annotations

from dataclasses import dataclass

from eventstore.errors import StoreConfigurationError

DEFAULT_PREFIX = "gleitzeit:hub"

LOG = "{prefix}:{{{hub}}}:log"
META = "{prefix}:{{{hub}}}:meta"
VERSIONS = "{prefix}:{{{hub}}}:versions"
IDS = "{prefix}:{{{hub}}}:ids"
INDEX = "{prefix}:{{{hub}}}:index"
FOREIGN = "{prefix}:{{{hub}}}:foreign"

READMODEL = "{prefix}:{{{hub}}}:rm:{projection}"
READMODEL_HUBS = "{prefix}:rm:hubs:{projection}"
STREAM_HUBS = "{prefix}:streams:{stream}"
STREAM_INDEX_BUILT = "{prefix}:streams-indexed"

META_SUFFIX = "}:meta"
_GLOB_SPECIAL = "\\*?[]"


@dataclass(frozen=True)
class HubKeys:
    """The keys of one hub."""

    log: str
    meta: str
    versions: str
    ids: str
    index: str
    foreign: str

    @classmethod
    def of(cls, prefix: str, hub_id: str) -> HubKeys:
        names = {"prefix": prefix, "hub": hub_id}
        return cls(
            log=LOG.format(**names),
            meta=META.format(**names),
            versions=VERSIONS.format(**names),
            ids=IDS.format(**names),
            index=INDEX.format(**names),
            foreign=FOREIGN.format(**names),
        )

    def all(self) -> list[str]:
        """The five keys every hub has once it has an event."""
        return [self.log, self.meta, self.versions, self.ids, self.index]


@dataclass(frozen=True)
class ReadModelKeys:
    """The keys of one projection's read model of one hub."""

    checkpoint: str
    tables: str
    snapshots: str
    snapshot_data: str
    base: str

    @classmethod
    def of(cls, prefix: str, hub_id: str, projection: str) -> ReadModelKeys:
        base = READMODEL.format(prefix=prefix, hub=hub_id, projection=projection)
        return cls(
            checkpoint=f"{base}:cp",
            tables=f"{base}:tables",
            snapshots=f"{base}:snaps",
            snapshot_data=f"{base}:snapdata",
            base=base,
        )

    def fixed(self) -> list[str]:
        """The keys every commit and drop script takes first, in this order."""
        return [self.checkpoint, self.tables, self.snapshots, self.snapshot_data]

    def table(self, table: str) -> tuple[str, str]:
        """A table's row keys (ZSet) and rows (Hash)."""
        return f"{self.base}:k:{table}", f"{self.base}:r:{table}"


def readmodel_hubs(prefix: str, projection: str) -> str:
    """The registry of hubs with a read model of ``projection`` (another slot)."""
    return READMODEL_HUBS.format(prefix=prefix, projection=projection)


def stream_hubs(prefix: str, stream: str) -> str:
    """The hubs that have ``stream`` (a slot of its own: no hash tag)."""
    return STREAM_HUBS.format(prefix=prefix, stream=stream)


def stream_index_built(prefix: str) -> str:
    return STREAM_INDEX_BUILT.format(prefix=prefix)


def check_prefix(prefix: object) -> str:
    """Raises: StoreConfigurationError for a prefix that would steal the hash tag."""
    if not isinstance(prefix, str) or not prefix:
        raise StoreConfigurationError(f"key_prefix must be a non-empty string, got {prefix!r}")
    if "{" in prefix or "}" in prefix:
        raise StoreConfigurationError(
            f"key_prefix {prefix!r} contains a brace; braces would make it the Redis Cluster "
            "hash tag instead of the hub id"
        )
    return prefix


def meta_pattern(prefix: str) -> str:
    """The SCAN pattern that matches the ``meta`` key of every hub under ``prefix``."""
    escaped = "".join("\\" + ch if ch in _GLOB_SPECIAL else ch for ch in prefix)
    return f"{escaped}:{{*{META_SUFFIX}"


def hub_of_meta_key(prefix: str, key: str) -> str | None:
    """``<prefix>:{ollama-pool}:meta`` -> ``ollama-pool``; None for any other key."""
    head = f"{prefix}:{{"
    if key.startswith(head) and key.endswith(META_SUFFIX):
        hub = key[len(head) : -len(META_SUFFIX)]
        return hub if hub and "{" not in hub and "}" not in hub else None
    return None
