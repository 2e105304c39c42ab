"""One adapter's connection to its backend: the event store, the read-model
store beside it and one projection runner per (projection, hub), opened
lazily on first use and again after :meth:`Session.close`.

Each runner is kept current in the background (under asyncio, which is what
Gleitzeit runs): a task follows its hub's log and folds and commits what
arrives, so a read finds the backlog folded already and only confirms it
(one empty read).  Under trio, or until the follower has started, a read
folds the backlog itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import aclosing
from typing import Any

import anyio

from adapters.stores import open_store, readmodel_store_for
from eventstore.errors import EventStoreError
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

log = logging.getLogger(__name__)
MAX_FOLLOWED = 64
"""Read models followed in the background per adapter (each holds a
subscription: on Redis a blocking connection); past it a read folds its
hub's backlog itself."""
GATHER_S = 0.02
"""How long a follower lets events gather after the first before it folds."""
RESUBSCRIBE_S = 1.0
"""After a follower's subscription failed (an outage), it tries again so often."""


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
        self._followers: list[tuple[asyncio.Task[None], anyio.CancelScope]] = []
        self._followed: set[tuple[str, str]] = set()
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

    async def caught_up(self, kind: str, hub_id: str, *, follow: bool = True) -> ProjectionRunner:
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
        if follow and key not in self._followed and len(self._followed) < MAX_FOLLOWED:
            self._followed.add(key)
            self._follow(key)
        runner, lock = self._runners[key]
        async with lock:  # one fold at a time per read model
            await runner.catch_up()
        return runner

    async def followed(self, kind: str, hub_id: str) -> ProjectionRunner:
        """The runner of ``kind`` for ``hub_id`` as its follower has it — no
        read when it is loaded already (else :meth:`caught_up`): for a first
        guess that is checked before anything is decided on it.

        Raises: ProjectionOutdated, BackendUnavailable, StoreClosed.
        """
        held = self._runners.get((kind, hub_id))
        if held is not None and held[0].loaded:
            return held[0]
        return await self.caught_up(kind, hub_id, follow=False)  # a write's guess: no follower

    def _follow(self, key: tuple[str, str]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not asyncio: reads fold the backlog themselves
        # Stopped by cancelling its anyio scope, never task.cancel(): anyio
        # shields a call running in a worker thread only from its own
        # cancellation, and an abandoned call would go on using a
        # connection of the store being closed.
        scope = anyio.CancelScope()
        task = loop.create_task(self._keep_up(key, scope), name=f"hublog-follow-{key}")
        self._followers.append((task, scope))

    async def _keep_up(self, key: tuple[str, str], scope: anyio.CancelScope) -> None:
        """Fold what the hub's log gets as it gets it, until stopped."""
        with scope:
            await self._fold_as_it_comes(key)

    async def _fold_as_it_comes(self, key: tuple[str, str]) -> None:
        runner, lock = self._runners[key]
        while True:
            try:
                store = await self.store()
                async with lock:  # loaded and caught up first: follow from there
                    await runner.catch_up()
                follow = store.subscribe(runner.hub_id, after=runner.position)
                async with aclosing(follow) as events:
                    async for event in events:
                        if event.position > runner.position:  # else a read folded it
                            # Let a burst arrive, then fold and commit it as one
                            # batch: one commit per burst, not one per event.
                            await anyio.sleep(GATHER_S)
                            async with lock:
                                await runner.catch_up()
            except EventStoreError as exc:
                log.debug("following %s: %s; again in %s s", key, exc, RESUBSCRIBE_S)
                await anyio.sleep(RESUBSCRIBE_S)

    async def close(self) -> None:
        """Close what was opened; the next call opens again.  Idempotent.

        A ``memory://`` log holds nothing to release and would be lost by
        closing: it lives as long as its adapter.
        """
        followers, self._followers = self._followers, []
        for _, scope in followers:
            scope.cancel()
        if followers:
            await asyncio.gather(*(task for task, _ in followers), return_exceptions=True)
        self._followed = set()
        if self.url.startswith("memory:"):
            self._runners = {}  # followed again from where they are on the next read
            return
        async with self._opening:
            store, storage = self._store, self._storage
            self._store, self._storage, self._runners = None, None, {}
            if storage is not None:
                await storage.close()
            if store is not None:
                await store.close()
