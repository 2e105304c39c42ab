"""One adapter's connection to its backend: the event store, the read-model
store beside it and one projection runner per (projection, hub), opened
lazily on first use and again after :meth:`Session.close`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio

from adapters.stores import open_store, readmodel_store_for
from eventstore.store import EventStore
from projections import (
    HubProjection,
    MetricsProjection,
    ProjectionRunner,
    ReadModels,
    ReadModelStore,
    RetentionPolicy,
)
from projections.readmodel import Projection


class Session:
    """Opens ``open_store(url, **options)`` when first needed.

    ``caught_up(kind, hub_id)`` folds a hub's log into its read model before
    a read, so an adapter reads its own writes (and everyone else's
    acknowledged ones).
    """

    def __init__(
        self, url: str, options: dict[str, Any], policy: RetentionPolicy | None = None
    ) -> None:
        self.url = url
        self.options = options
        self.policy = policy
        self._store: EventStore | None = None
        self._storage: ReadModelStore | None = None
        self._opening = anyio.Lock()
        self._runners: dict[tuple[str, str], tuple[ProjectionRunner, anyio.Lock]] = {}
        self._projections: dict[str, Callable[[], Projection[Any]]] = {
            "hub": HubProjection,
            "metrics": lambda: MetricsProjection(self.policy),
        }

    async def store(self) -> EventStore:
        """The event store, opened on first use.

        Raises: StoreConfigurationError, SchemaVersionError, BackendUnavailable.
        """
        if self._store is None:
            async with self._opening:
                if self._store is None:
                    store = await open_store(self.url, **self.options)
                    try:
                        self._storage = readmodel_store_for(store)
                    except BaseException:
                        await store.close()
                        raise
                    self._store = store
        return self._store

    async def storage(self) -> ReadModelStore:
        await self.store()
        assert self._storage is not None
        return self._storage

    async def reader(self) -> ReadModels:
        return ReadModels(await self.storage())

    async def caught_up(self, kind: str, hub_id: str) -> ProjectionRunner:
        """The runner of projection ``kind`` (``hub`` or ``metrics``) for
        ``hub_id``, caught up to the log's end.

        Raises: ProjectionOutdated, BackendUnavailable, StoreClosed.
        """
        store, storage = await self.store(), await self.storage()
        key = (kind, hub_id)
        if key not in self._runners:
            runner = ProjectionRunner(
                store, storage, self._projections[kind](), hub_id, rebuild_if_outdated=True
            )
            self._runners[key] = (runner, anyio.Lock())
        runner, lock = self._runners[key]
        async with lock:  # one fold at a time per read model
            await runner.catch_up()
        return runner

    async def close(self) -> None:
        """Close what was opened; the next call opens again.  Idempotent.

        A ``memory://`` log holds nothing to release and would be lost by
        closing: it lives as long as its adapter.
        """
        if self.url.startswith("memory:"):
            return
        async with self._opening:
            store, storage = self._store, self._storage
            self._store, self._storage, self._runners = None, None, {}
            if storage is not None:
                await storage.close()
            if store is not None:
                await store.close()
