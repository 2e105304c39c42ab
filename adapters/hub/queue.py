"""The hub API's queue: reservation with waiting on a hub's instances, the
queue figures ``get_resource_utilization`` reports, and Gleitzeit 0.0.5's
``save_queue_state`` / ``get_queue_state`` / ``delete_queue_state`` — all
events in the log.

A reservation leases an instance the hub projection says is available
(healthy or degraded) and that matches the requirements, with the instance's
lease capacity (an Ollama server's ``max_concurrent``).  Gleitzeit's queue
states are kept, one stream each, in the hub :data:`QUEUE_STATE_HUB`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio

from eventstore import streams
from eventstore.errors import InvalidEventError, WrongExpectedVersion
from eventstore.events import QueueStateDeleted, QueueStateSaved
from eventstore.store import EventStore
from projections import InstanceState, ProjectionRunner, ReadModelStore
from projections.deciders.queue import Candidate, QueueService
from projections.queue import QueueModel, QueueProjection

from .leases import capacity_of

POOL_TTL = 1.0
"""How long a hub's instances, as the hub projection gave them, are reused
by reservations: catching the projection up on every attempt would make
every waiter of every process fold (and commit) the log's lock traffic."""
QUEUE_STATE_HUB = "gleitzeit-queues"
"""Where Gleitzeit's saved queue states live: queue names are not per hub."""

Instances = Callable[[str], Awaitable[Sequence[InstanceState]]]


class HubQueue:
    """One adapter's queue service and queue read models, made again when
    its store is reopened."""

    def __init__(self, instances: Instances) -> None:
        self.instances = instances
        self._service: QueueService | None = None
        self._pools: dict[str, tuple[float, list[Candidate]]] = {}
        self._runners: dict[str, tuple[ProjectionRunner, anyio.Lock]] = {}
        self._runners_of: EventStore | None = None

    def service(self, store: EventStore) -> QueueService:
        if self._service is None or self._service.store is not store:
            self._service = QueueService(store)
        return self._service

    async def model(self, store: EventStore, storage: ReadModelStore, hub_id: str) -> QueueModel:
        """The hub's queue read model, caught up to the log's end: folded
        from its stored checkpoint, not from the queue's first event.

        Raises: BackendUnavailable, InvalidEventError, ProjectionOutdated, StoreClosed.
        """
        if self._runners_of is not store:  # reopened: the old runners hold closed stores
            self._runners, self._runners_of = {}, store
        if hub_id not in self._runners:
            streams.check_name("hub_id", hub_id)
            runner = ProjectionRunner(
                store, storage, QueueProjection(), hub_id, rebuild_if_outdated=True
            )
            self._runners[hub_id] = (runner, anyio.Lock())
        runner, lock = self._runners[hub_id]
        async with lock:  # one fold at a time per read model
            await runner.catch_up()
        assert isinstance(runner.state, QueueModel)
        return runner.state

    async def pool(self, hub_id: str) -> list[Candidate]:
        """Every live instance of the hub with its lease capacity (the
        service judges availability and requirements), at most POOL_TTL old."""
        now = anyio.current_time()
        cached = self._pools.get(hub_id)
        if cached is not None and now - cached[0] < POOL_TTL:
            return cached[1]
        states = await self.instances(hub_id)
        pool = [Candidate(instance=s, capacity=capacity_of(s)) for s in states]
        self._pools[hub_id] = (now, pool)
        return pool


async def save_state(store: EventStore, queue_name: str, state: Any) -> None:
    """Append ``QueueStateSaved`` with the whole state (the last one wins).

    Raises: InvalidEventError (a state that is no dict or cannot be stored,
    a bad name), BackendUnavailable.
    """
    if not isinstance(state, dict):
        raise InvalidEventError(f"queue state must be a dict, got {type(state).__name__}")
    stream = streams.saved_queue(streams.check_name("queue_name", queue_name))
    await store.append(QUEUE_STATE_HUB, stream, [QueueStateSaved(state=state)])


async def get_state(store: EventStore, queue_name: str) -> dict[str, Any] | None:
    """The last saved state, or None (never saved, or deleted since).

    Raises: InvalidEventError (a bad name), BackendUnavailable.
    """
    stream = streams.saved_queue(streams.check_name("queue_name", queue_name))
    last = await store.last_event(QUEUE_STATE_HUB, stream)
    return dict(last.event.state) if last and isinstance(last.event, QueueStateSaved) else None


async def delete_state(store: EventStore, queue_name: str) -> bool:
    """Append ``QueueStateDeleted``; False (nothing written) when there is no
    saved state.  Version-checked, so two deleters write one deletion.

    Raises: InvalidEventError (a bad name), BackendUnavailable.
    """
    stream = streams.saved_queue(streams.check_name("queue_name", queue_name))
    while True:
        last = await store.last_event(QUEUE_STATE_HUB, stream)
        if last is None or not isinstance(last.event, QueueStateSaved):
            return False
        try:
            await store.append(
                QUEUE_STATE_HUB, stream, [QueueStateDeleted()], expected_version=last.version
            )
            return True
        except WrongExpectedVersion:
            continue  # saved or deleted meanwhile: look again


__all__ = ["QUEUE_STATE_HUB", "HubQueue", "delete_state", "get_state", "save_state"]
