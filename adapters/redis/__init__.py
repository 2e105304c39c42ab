"""The Redis backend: a hub's log is one Redis Stream, an append one Lua
script; read models beside it under the hub's hash tag.

Modules: ``settings`` (the one place options are read), ``connection``
(clients, which node holds a key), ``calls`` (the one call path: thread hop,
retries, error translation), ``keys`` (every key), ``scripts`` + ``lua/``
(every script), ``store`` (the event store), ``readmodels`` (read-model
storage).  Deployments and durability: ``docs/redis.md``.
"""

from .readmodels import RedisReadModelStore
from .settings import RedisSettings
from .store import RedisEventStore, create_store

__all__ = ["RedisEventStore", "RedisReadModelStore", "RedisSettings", "create_store"]
