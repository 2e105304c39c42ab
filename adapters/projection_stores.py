"""The read-model store that goes with an event store: same backend, same
database (and, for SQL, the same connection pool)."""

from __future__ import annotations

from eventstore.errors import StoreConfigurationError
from eventstore.store import EventStore
from projections.storage import ReadModelStore


def readmodel_store_for(store: EventStore) -> ReadModelStore:
    """A :class:`ReadModelStore` beside ``store``'s log.

    For a memory event store it is a new, empty memory store each call: keep
    the one you get.  Closing it leaves ``store`` open.

    Raises: StoreConfigurationError for a backend with no read-model storage.
    """
    from .memory import MemoryEventStore
    from .sql import SQLEventStore

    if isinstance(store, MemoryEventStore):
        from .readmodels_memory import MemoryReadModelStore

        return MemoryReadModelStore()
    if isinstance(store, SQLEventStore):
        from .sql_readmodels import SQLReadModelStore

        return SQLReadModelStore(store.engine)
    from .redis import RedisEventStore

    if isinstance(store, RedisEventStore):
        from .readmodels_redis import RedisReadModelStore

        return RedisReadModelStore(store)
    raise StoreConfigurationError(f"no read-model storage for {type(store).__name__}")
