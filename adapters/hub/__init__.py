"""The Gleitzeit-facing persistence API: ``HubPersistenceAdapter`` and its
Redis/SQL/memory faces, the leases glue, ``attach``, ``restore`` and
configuration.

It reaches a backend only through :func:`adapters.open_store` (and the
read-model store beside it), never by importing a backend package, and never
imports click: an import-linter contract checks both.  Gleitzeit itself is
imported only by ``restore`` (lazily, in :mod:`.objects`).
"""

from projections.deciders.queue import Requirements, Reservation, ReservationTimeout

from .adapter import HubPersistenceAdapter
from .attach import Attachment, attach
from .config import PersistenceSettings
from .errors import HubConfigError, UnknownInstance
from .faces import MemoryHubAdapter, RedisHubAdapter, SQLHubAdapter, open_persistence
from .leases import get_instance
from .queue import QUEUE_STATE_HUB
from .restore import RestoreReport, restore

__all__ = [
    "QUEUE_STATE_HUB",
    "Attachment",
    "HubConfigError",
    "HubPersistenceAdapter",
    "MemoryHubAdapter",
    "PersistenceSettings",
    "RedisHubAdapter",
    "Requirements",
    "Reservation",
    "ReservationTimeout",
    "RestoreReport",
    "SQLHubAdapter",
    "UnknownInstance",
    "attach",
    "get_instance",
    "open_persistence",
    "restore",
]
