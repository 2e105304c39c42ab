"""Everything of hublog that touches the outside: backends (``memory``,
``sql/``, ``redis/``), ``open_store``, the hub-facing persistence API
(``hub/``), the library behind the CLI (``replay/``) and the ``hublog``
command (``cli/``)."""

from .hub import (
    HubPersistenceAdapter,
    MemoryHubAdapter,
    RedisHubAdapter,
    Requirements,
    Reservation,
    ReservationTimeout,
    SQLHubAdapter,
    attach,
    open_persistence,
    restore,
)
from .stores import open_store, readmodel_store_for

__all__ = [
    "HubPersistenceAdapter",
    "MemoryHubAdapter",
    "RedisHubAdapter",
    "Requirements",
    "Reservation",
    "ReservationTimeout",
    "SQLHubAdapter",
    "attach",
    "open_persistence",
    "open_store",
    "readmodel_store_for",
    "restore",
]
