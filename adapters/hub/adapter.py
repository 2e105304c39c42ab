"""``HubPersistenceAdapter``: the seed's interface and Gleitzeit 0.0.5's 14
persistence methods, on the log.

Every write is an event appended to the hub's log (durable when the call
returns), every read a projection of it.  Every method is async, opens the
backend on first use (``initialize()`` only does it early) and may be called
again; backend failures leave as hublog's own errors, never swallowed.
Which events each method appends: ``docs/hub.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

import msgspec

from adapters.urls import redact
from eventstore import streams
from eventstore.errors import InvalidEventError
from eventstore.events import Event, InstanceDeregistered, MetricsSampled
from eventstore.values import ResourceStatus
from projections import HubState, InstanceState, ReadModels, RetentionPolicy
from projections.deciders import instances as instance_changes
from projections.deciders.leases import LeaseService
from projections.deciders.queue import Requirements, Reservation, ReservationTimeout
from projections.deciders.retention import retain
from projections.queue import QueueModel, QueueStats

from . import changes, convert, history, instances, leases, queue
from .errors import UnknownInstance
from .session import Session

DEFAULT_LOCK_HUB = "gleitzeit-locks"


class HubPersistenceAdapter:
    """Hub persistence on the store at ``url`` (any ``open_store`` URL).

    Args:
        lock_hub: where locks on resources that are no registered instance live.
        retention: how long raw samples are kept before rollups stand for
            them (default: 24 h raw, 7 d minutes, 90 d hours).
        options: passed to ``open_store`` (``pool_size=``, ``key_prefix=``, …).

    ``bool(adapter)`` is always True: a Gleitzeit hub tests ``if
    self.persistence:`` before every call.
    """

    def __init__(
        self,
        url: str,
        *,
        lock_hub: str = DEFAULT_LOCK_HUB,
        retention: RetentionPolicy | None = None,
        **options: Any,
    ) -> None:
        self.url = url
        self.lock_hub = lock_hub
        self.session = Session(url, options, retention)
        self._hub_of: dict[str, str] = {}
        self._held_in: dict[tuple[str, str], str] = {}
        """Where this adapter granted (resource, owner) a lock: released there first."""
        self._leases: LeaseService | None = None
        self.views = instance_changes.InstanceViews(seed=self._row_of)
        """What this adapter knows of each instance stream (the write side's view)."""
        self.queue = queue.HubQueue(self.live_instances)
        self.settings: Any = None
        """The configuration it was opened from (``open_persistence``), if any."""

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact(self.url)!r})"

    # --- lifecycle ------------------------------------------------------------

    async def initialize(self) -> None:
        """Connect now rather than at the first call.

        Raises: StoreConfigurationError, SchemaVersionError, BackendUnavailable.
        """
        await self.session.store()

    async def shutdown(self) -> None:
        """Close the connections (a later call opens them again).  Idempotent."""
        await self.session.close()

    async def __aenter__(self) -> Self:
        await self.initialize()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    # --- instances --------------------------------------------------------------

    async def save_instance(self, hub_id: Any, instance: Any = None) -> None:
        """Append what changed about ``instance`` since the log last heard of
        it: a registration, descriptive changes, health events — or nothing.

        Also takes the seed's one-argument form, ``save_instance(instance)``
        with the hub in ``instance.metadata["hub_id"]``.

        Raises: InvalidEventError (an instance that cannot be read or stored,
        a bad hub id), WrongExpectedVersion (lost the race ATTEMPTS times),
        BackendUnavailable, StoreClosed.
        """
        if instance is None:
            instance = hub_id
            hub_id = (convert.observe(instance).metadata or {}).get("hub_id")
            if not isinstance(hub_id, str):
                raise InvalidEventError("save_instance(instance) needs metadata['hub_id']")
        observed = convert.observe(instance)  # copied now: the hub keeps mutating it
        store = await self.session.store()

        def decide(state: InstanceState | None) -> list[Event]:
            return list(changes.changes(state, observed, datetime.now(UTC)))

        await instance_changes.change(store, hub_id, observed.id, decide, self.views)
        self._hub_of[observed.id] = hub_id

    async def delete_instance(self, instance_id: str) -> None:
        """Record ``InstanceDeregistered`` in the hub where the instance is
        registered; nothing when it is registered nowhere (already deleted).

        Raises: BackendUnavailable, WrongExpectedVersion, InvalidEventError, StoreClosed.
        """
        await self.record_deregistered(instance_id, reason="deleted by the hub")

    async def record_deregistered(self, instance_id: str, *, reason: str) -> bool:
        """``delete_instance`` with a reason; False when there was nothing to end."""
        store = await self.session.store()
        hub_id = await instances.live_hub(
            store, self.views, instance_id, self._hub_of.get(instance_id)
        )
        if hub_id is None:
            return False

        def decide(state: InstanceState | None) -> list[Event]:
            live = state is not None and state.registered
            return [InstanceDeregistered(reason=reason)] if live else []

        return await instance_changes.change(store, hub_id, instance_id, decide, self.views) > 0

    async def load_instance(self, instance_id: str) -> dict[str, Any] | None:
        """The live instance as ``to_dict()`` plus ``config``, or None.

        Raises: BackendUnavailable, StoreClosed.
        """
        state = await self.instance_state(instance_id)
        return None if state is None else convert.instance_dict(state[1])

    async def instance_state(self, instance_id: str) -> tuple[str, InstanceState] | None:
        """``(hub_id, state)`` of the live instance, from the hub's read model."""
        store = await self.session.store()
        hub_id = await instances.live_hub(
            store, self.views, instance_id, self._hub_of.get(instance_id)
        )
        if hub_id is None:
            return None
        state = (await self.hub_state(hub_id)).instances.get(instance_id)
        if state is None or not state.registered:
            return None
        self._hub_of[instance_id] = hub_id
        return hub_id, state

    async def list_instances(self, hub_id: str) -> list[dict[str, Any]]:
        """One dict per live instance of the hub, by id.

        Raises: BackendUnavailable, InvalidEventError (a bad hub id), StoreClosed.
        """
        return [convert.instance_dict(s) for s in await self.live_instances(hub_id)]

    async def live_instances(self, hub_id: str) -> list[InstanceState]:
        state = await self.hub_state(hub_id)
        live = [s for _, s in sorted(state.instances.items()) if s.registered]
        self._hub_of.update((s.id, hub_id) for s in live)
        return live

    async def _row_of(self, hub_id: str, instance_id: str) -> InstanceState | None:
        """The hub read model's row of an instance, as its follower has it: a
        view's first guess (the view reads the stream's tail after it)."""
        state = (await self.session.followed("hub", hub_id)).state
        assert isinstance(state, HubState)
        return state.instances.get(instance_id)

    async def hub_state(self, hub_id: str) -> HubState:
        """The hub projection, caught up to the log's end."""
        runner = await self.session.caught_up("hub", hub_id)
        assert isinstance(runner.state, HubState)
        return runner.state

    # --- metrics ----------------------------------------------------------------

    async def save_metrics(self, instance_id: str, metrics: Any) -> None:
        """Append ``MetricsSampled``, stamped with the time of this call.

        Raises: UnknownInstance (registered in no hub), InvalidEventError,
        BackendUnavailable, StoreClosed.
        """
        sample = MetricsSampled(metrics=convert.metrics_of(metrics), sampled_at=datetime.now(UTC))
        store = await self.session.store()
        hub_id = await instances.live_hub(
            store, self.views, instance_id, self._hub_of.get(instance_id)
        )
        if hub_id is None:
            raise UnknownInstance(instance_id)
        await self.record(hub_id, streams.metrics(instance_id), [sample])

    async def get_metrics_history(
        self, instance_id: str, start_time: datetime, end_time: datetime
    ) -> list[dict[str, Any]]:
        """Samples with ``start_time <= timestamp <= end_time`` (naive times
        are UTC), oldest first; stretches whose raw samples retention removed
        come as rollups (``"rollup": True``).  An instance deregistered since
        keeps its history; an unknown one has none.

        Raises: InvalidEventError (not datetimes), BackendUnavailable, StoreClosed.
        """
        low, high = history.window(start_time, end_time)
        store = await self.session.store()
        known = self._hub_of.get(instance_id)
        hubs = [known] if known else await instances.hubs_with(store, streams.metrics(instance_id))
        entries: list[dict[str, Any]] = []
        for hub_id in hubs:
            runner = await self.session.caught_up("metrics", hub_id)
            raw_from = history.raw_from(runner.projection, runner.state, instance_id)
            reader = await self.session.reader()
            entries += await history.history(reader, hub_id, instance_id, low, high, raw_from)
        return sorted(entries, key=lambda e: e["timestamp"])

    async def cleanup_old_data(self, cutoff_date: datetime) -> int:
        """Roll up and remove raw samples before the hour of ``cutoff_date``
        in every hub; how many samples were removed.  Lifecycle and lock
        events are never removed; rollups keep the removed samples' aggregates.

        Raises: InvalidEventError, BackendUnavailable, StoreClosed.
        """
        cutoff = convert.utc(cutoff_date, "cutoff_date")
        assert cutoff is not None
        store, storage = await self.session.store(), await self.session.storage()
        policy = self.session.policy or RetentionPolicy()
        now = cutoff + timedelta(seconds=policy.raw_s)  # retain cuts at now - raw window
        removed = 0
        for hub_id in await store.hubs():
            report = await retain(store, storage, hub_id, policy=policy, now=now)
            removed += report.samples_removed
        return removed

    async def get_resource_utilization(self, hub_id: str) -> dict[str, Any]:
        """The hub summary: counts by status, availability, load, lease use,
        and the queue (``queue_depth``, ``oldest_wait_s``; every queue
        figure under ``queue``), each from its read model after a catch-up.

        Raises: BackendUnavailable, InvalidEventError, StoreClosed.
        """
        state = await self.hub_state(hub_id)
        reader: ReadModels = await self.session.reader()
        summary = await reader.summary(hub_id) or state.summary
        model = await self._queue_model(hub_id)
        # The hub projection folds no queue events, so its stored summary
        # leaves the queue fields unknown (None): the queue model fills them,
        # the oldest wait judged at the later of the two models' clocks.
        now = max((c for c in (summary.as_of, model.meta.clock) if c is not None), default=None)
        figures = model.queue.summary(now)
        summary = msgspec.structs.replace(
            summary, queue_depth=model.queue.depth, oldest_wait_s=figures["oldest_wait_s"]
        )
        return {"hub_id": hub_id, **msgspec.to_builtins(summary), "queue": figures}

    # --- the reservation queue ----------------------------------------------------

    async def reserve(
        self,
        hub_id: str,
        *,
        requirements: Requirements | dict[str, Any] | None = None,
        owner_id: str,
        ttl: float = 30,
        wait: float = 0.0,
        heartbeat: float | None = None,
    ) -> Reservation:
        """A lease slot on an available instance of ``hub_id`` matching
        ``requirements`` (``{"models": [...], "tags": [...], "capabilities":
        [...], "resource_type": "ollama", "instances": [...]}``) for ``ttl``
        seconds — now, or after waiting up to ``wait`` seconds in the hub's
        queue, granted in FIFO order across processes.  Release with
        ``release_lock(reservation.instance_id, owner_id)``.  Cancelling the
        caller leaves the queue cleanly.  ``docs/queue.md``.

        Raises: ReservationTimeout (no slot within ``wait``; it has left the
        queue), InvalidReservation, QueueContention, QueueUnreadable,
        LeaseError, BackendUnavailable, InvalidEventError, StoreClosed.
        """
        service = self.queue.service(await self.session.store())
        return await service.reserve(
            hub_id,
            requirements=requirements,
            owner_id=owner_id,
            ttl=ttl,
            wait=wait,
            pool=self.queue.pool,
            heartbeat=heartbeat,
        )

    async def release(self, reservation: Reservation) -> bool:
        """Give back ``reservation``'s lease by its fencing token; False when
        it had run out or was given back already.  Unlike ``release_lock``
        it needs no look-up of the instance's hub (a catch-up of the hub
        projection, folding every lock event since the last one): the
        reservation's lease names the hub, the instance and the token.

        Raises: LeaseError, BackendUnavailable, InvalidEventError, StoreClosed.
        """
        lease = reservation.lease
        service = self.queue.service(await self.session.store())
        return await service.leases.release(
            lease.hub_id, lease.resource_id, lease.owner, lease.token
        )

    async def reserve_instance(self, instance_id: str, owner_id: str, *, ttl: float) -> bool:
        """``reserve(..., requirements={"instances": [instance_id]}, wait=0)``
        in the instance's hub — what ``get_instance`` asks of each candidate;
        a resource registered nowhere is leased as ``acquire_lock`` does.

        Raises: as :meth:`reserve`, but False instead of ReservationTimeout.
        """
        found = await self.instance_state(instance_id)
        if found is None:
            return await self.acquire_lock(instance_id, owner_id, int(ttl))
        only = Requirements(instances=(instance_id,))
        try:
            await self.reserve(found[0], requirements=only, owner_id=owner_id, ttl=ttl)
        except ReservationTimeout:
            return False
        return True

    async def queue_stats(self, hub_id: str) -> QueueStats:
        """The hub's queue figures: depth, oldest wait, recent wait times —
        the queue read model, caught up to the log's end.

        Raises: BackendUnavailable, InvalidEventError, StoreClosed.
        """
        return (await self._queue_model(hub_id)).queue

    async def _queue_model(self, hub_id: str) -> QueueModel:
        store, storage = await self.session.store(), await self.session.storage()
        return await self.queue.model(store, storage, hub_id)

    async def save_queue_state(self, queue_name: str, state: dict[str, Any]) -> None:
        """Gleitzeit's saved queue state, appended as ``QueueStateSaved``.

        Raises: InvalidEventError, BackendUnavailable, StoreClosed.
        """
        await queue.save_state(await self.session.store(), queue_name, state)

    async def get_queue_state(self, queue_name: str) -> dict[str, Any] | None:
        """The last saved queue state, or None (never saved, or deleted).

        Raises: InvalidEventError, BackendUnavailable, StoreClosed.
        """
        return await queue.get_state(await self.session.store(), queue_name)

    async def delete_queue_state(self, queue_name: str) -> bool:
        """Append ``QueueStateDeleted``; False when no state is saved.

        Raises: InvalidEventError, BackendUnavailable, StoreClosed.
        """
        return await queue.delete_state(await self.session.store(), queue_name)

    # --- locks ------------------------------------------------------------------

    async def acquire_lock(self, resource_id: str, owner_id: str, timeout: int = 30) -> bool:
        """A lease on ``resource_id`` for ``timeout`` seconds (capacity: the
        instance's ``max_concurrent`` for Ollama, else 1); False when full.

        Raises: LeaseError (CapacityMismatch, LeaseContention, …),
        BackendUnavailable, InvalidEventError.
        """
        hub_id, capacity = await self._lock_home(resource_id)
        place = await self._place(hub_id, resource_id, capacity)
        if not await place.acquire_lock(resource_id, owner_id, timeout):
            return False
        self._held_in[(resource_id, owner_id)] = hub_id
        return True

    async def extend_lock(self, resource_id: str, owner_id: str, timeout: int = 30) -> bool:
        """Renew ``owner_id``'s lease; False when it holds none (or it ran out).

        Raises: as :meth:`acquire_lock`.
        """
        for place in await self._lock_places(resource_id, owner_id):
            if await place.extend_lock(resource_id, owner_id, timeout):
                return True
        return False

    async def release_lock(self, resource_id: str, owner_id: str) -> None:
        """Give back ``owner_id``'s lease; nothing when it holds none.  Where
        this adapter granted it is tried first (one read, one append); the
        other place is looked at only when nothing was given back there.

        Raises: as :meth:`acquire_lock`.
        """
        for place in await self._lock_places(resource_id, owner_id):
            if await place.release_lock(resource_id, owner_id):
                self._held_in.pop((resource_id, owner_id), None)
                return

    async def get_lock_owner(self, resource_id: str) -> str | None:
        """The newest live holder by the backend's clock, or None.

        Raises: as :meth:`acquire_lock`.
        """
        for place in await self._lock_places(resource_id):
            owner = await place.get_lock_owner(resource_id)
            if owner is not None:
                return owner
        return None

    async def _lock_home(self, resource_id: str) -> tuple[str, int]:
        hub_id = self._hub_of.get(resource_id)
        held = self.views.known(hub_id, resource_id) if hub_id is not None else None
        if hub_id is not None and held is not None and held[0] is not None and held[0].registered:
            return hub_id, leases.capacity_of(held[0])  # known here: no read
        found = await self.instance_state(resource_id)
        if found is None:
            return self.lock_hub, 1
        return found[0], leases.capacity_of(found[1])

    async def _lock_places(
        self, resource_id: str, owner_id: str | None = None
    ) -> list[leases.HubLeases]:
        granted_in = self._held_in.get((resource_id, owner_id)) if owner_id else None
        home, capacity = await self._lock_home(resource_id)
        hubs = dict.fromkeys([h for h in (granted_in, home, self.lock_hub) if h is not None])
        return [await self._place(hub, resource_id, capacity) for hub in hubs]

    async def _place(self, hub_id: str, resource_id: str, capacity: int) -> leases.HubLeases:
        store = await self.session.store()
        if self._leases is None or self._leases.store is not store:
            # One clock, calibrated once, and each lock as this adapter last
            # changed it, per open store.
            self._leases = LeaseService(store, keep_views=True)
        return leases.leases_for(store, hub_id, resource_id, capacity, self._leases)

    # --- what attach and restore use --------------------------------------------

    async def record(self, hub_id: str, stream: str, events: Sequence[Event]) -> None:
        """Append events as they are (no expected version): the one call
        through which ``attach`` writes hub and metrics events.

        Raises: InvalidEventError, BackendUnavailable, StoreClosed.
        """
        store = await self.session.store()
        await instances.append_any(store, hub_id, stream, list(events))

    async def record_if_live(self, hub_id: str, instance_id: str, events: Sequence[Event]) -> int:
        """Append instance events only while the instance is registered
        (version-checked); how many were appended.

        Raises: as :meth:`save_instance`.
        """
        store = await self.session.store()

        def decide(state: InstanceState | None) -> list[Event]:
            return list(events) if state is not None and state.registered else []

        return await instance_changes.change(store, hub_id, instance_id, decide, self.views)

    async def record_status(
        self,
        hub_id: str,
        instance_id: str,
        status: ResourceStatus,
        *,
        reason: str,
        failures: int | None = None,
        checked_at: datetime | None = None,
    ) -> int:
        """Bring the log's status of a live instance to ``status`` by health
        events (as ``save_instance`` would); how many were appended.

        Raises: as :meth:`save_instance`.
        """
        store = await self.session.store()

        def decide(state: InstanceState | None) -> list[Event]:
            if state is None or not state.registered:
                return []
            count = state.health_checks_failed if failures is None else failures
            target = changes.Health(status, count, False, convert.utc(checked_at, "checked_at"))
            return list(
                changes.health_events(changes.health_of(state), target, _now(), reason=reason)
            )

        return await instance_changes.change(store, hub_id, instance_id, decide, self.views)


def _now() -> datetime:
    return datetime.now(UTC)
