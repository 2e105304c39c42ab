"""The adapter's three faces, by the constructors the seed and Gleitzeit
name, and :func:`open_persistence` from a URL or a configuration."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from projections import RetentionPolicy

from . import config
from .adapter import DEFAULT_LOCK_HUB, HubPersistenceAdapter

DEFAULT_KEY_PREFIX = "gleitzeit:hub"


class MemoryHubAdapter(HubPersistenceAdapter):
    """In memory, for tests: one private log per adapter, gone with it."""

    def __init__(
        self, *, lock_hub: str = DEFAULT_LOCK_HUB, retention: RetentionPolicy | None = None
    ) -> None:
        super().__init__("memory://", lock_hub=lock_hub, retention=retention)


class SQLHubAdapter(HubPersistenceAdapter):
    """On SQLite (``sqlite:///hublog.db``, created and migrated) or
    PostgreSQL (``postgresql://…``, migrated with ``hublog db upgrade``).

    ``pool_size``: connections kept open to PostgreSQL; ``options``: any
    other SQL store option (``synchronous=``, ``poll_interval=``, …).
    Raises at the first call: StoreConfigurationError for a bad URL or option.
    """

    def __init__(
        self,
        connection_string: str,
        *,
        pool_size: int | None = None,
        lock_hub: str = DEFAULT_LOCK_HUB,
        retention: RetentionPolicy | None = None,
        **options: Any,
    ) -> None:
        if pool_size is not None:
            options["pool_size"] = pool_size
        super().__init__(connection_string, lock_hub=lock_hub, retention=retention, **options)


class RedisHubAdapter(HubPersistenceAdapter):
    """On Redis (``redis://``, ``rediss://``, ``redis+cluster://``).

    ``key_prefix`` starts every key; a ``?key_prefix=`` in the URL wins over
    the default (not over an explicit argument).  ``options``: any other
    Redis store option (``wait_for_aof=``, ``socket_timeout=``, …).
    Raises at the first call: StoreConfigurationError for a bad URL or option.
    """

    def __init__(
        self,
        redis_url: str,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        lock_hub: str = DEFAULT_LOCK_HUB,
        retention: RetentionPolicy | None = None,
        **options: Any,
    ) -> None:
        in_url = "key_prefix" in dict(parse_qsl(urlsplit(redis_url).query))
        if key_prefix != DEFAULT_KEY_PREFIX or not in_url:
            options["key_prefix"] = key_prefix
        super().__init__(redis_url, lock_hub=lock_hub, retention=retention, **options)


def open_persistence(url_or_config: object = None, **options: Any) -> HubPersistenceAdapter:
    """The adapter a configuration names, not yet connected (it opens at its
    first call, or ``await adapter.initialize()``; ``async with`` closes).

    ``url_or_config``: None (``GLEITZEIT_HUB_PERSISTENCE`` and its URL
    variable, else the embedded ``sqlite:///hublog.db``), a store URL, a YAML
    file's path, a mapping shaped like that file, or settings from
    :mod:`adapters.hub.config`.  ``options`` go to the store (they win over
    the configuration's).  ``adapter.settings`` keeps what was resolved
    (``settings.provider("ollama").persistence_interval``, …).

    Raises: HubConfigError naming the key (and the file and line) at fault.
    """
    settings = config.resolve(url_or_config)
    merged = {**settings.options, **options}
    adapter: HubPersistenceAdapter
    if settings.type == "memory":
        adapter = MemoryHubAdapter()
    elif settings.type == "redis":
        adapter = RedisHubAdapter(settings.url, **merged)
    else:
        adapter = SQLHubAdapter(settings.url, **merged)
    adapter.settings = settings
    return adapter
