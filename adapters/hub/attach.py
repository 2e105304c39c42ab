"""``attach(hub, persistence)``: what a Gleitzeit 0.0.5 hub never sends
reaches the log anyway.

A real hub calls only ``save_instance`` and ``delete_instance``; status
changes, recoveries, start and stop exist only as ``hub.on_event`` callbacks,
and metrics only in ``instance.metrics``.  An :class:`Attachment` registers a
handler for each of the seven events and samples metrics every
``persistence_interval`` seconds while the hub runs.

Every write goes through :meth:`Attachment.deliver`, and so through the
attachment's :class:`~eventstore.recorder.Recorder`: handlers and the
sampler never wait on the backend (the recorder batches, retries, spills to
``spill_dir`` while the backend is down).  Status changes, recoveries,
start/stop are recorded ``durable=True`` (a batch starts at once); samples
ride the next batch.  Registration and deregistration are decided on the
log (what changed, whether it is still live), so they first flush the
recorder — the log is then up to date — and append directly.  A failure is
logged and counted, never raised into the hub (Gleitzeit would swallow it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from eventstore import DEFAULT_CODEC, BackendUnavailable, streams
from eventstore.events import (
    Event,
    HealthChecked,
    HubStarted,
    HubStopped,
    InstanceRecovered,
    MetricsSampled,
    RecoveryFailed,
)
from eventstore.recorder import Fate, Recorder
from eventstore.store import EventStore
from eventstore.values import ResourceStatus, ResourceType

from . import changes, convert
from .adapter import HubPersistenceAdapter

log = logging.getLogger(__name__)

EVENTS = (
    "instance_registered",
    "instance_unregistered",
    "status_changed",
    "instance_recovered",
    "recovery_failed",
    "hub_started",
    "hub_stopped",
)
DEFAULT_INTERVAL = 60.0  # the seed's persistence_interval


class Attachment:
    """The handlers and the metrics sampler of one hub.

    ``failures`` counts writes that raised (each also logged with its
    traceback), ``delivered`` those that succeeded; ``last_error`` is the
    latest failure.
    """

    def __init__(
        self,
        hub: Any,
        persistence: HubPersistenceAdapter,
        *,
        interval: float,
        node_id: str,
        recorder_options: dict[str, Any] | None = None,
    ) -> None:
        self.hub = hub
        self.persistence = persistence
        self.interval = interval
        self.node_id = node_id
        self.delivered = 0
        self.failures = 0
        self.last_error: BaseException | None = None
        self.recorder_options = recorder_options or {}
        self.recorder: Recorder | None = None
        self._recorder_task: asyncio.Task[None] | None = None
        self._health: dict[str, changes.Health] = {}  # as the recorded events leave it
        self._sampler: asyncio.Task[None] | None = None

    @property
    def hub_id(self) -> str:
        return str(self.hub.hub_id)

    async def deliver(
        self,
        what: str,
        stream: str | None = None,
        events: Sequence[Event] = (),
        *,
        decide: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        """Record ``events`` on ``stream`` through the recorder — or, for a
        ``decide`` (a write decided on the log), flush the recorder and run
        it.  A failure is logged and counted, never raised into the hub."""
        try:
            recorder = await self.started_recorder()
            if decide is not None:
                await recorder.flush()
                await decide()
            for event in events:
                assert stream is not None
                await self._record(recorder, stream, event)
        except Exception as exc:  # any failure: recorded here, not lost
            self.failures += 1
            self.last_error = exc
            log.exception("hublog: recording %s for hub %s failed", what, self.hub_id)
        else:
            self.delivered += 1

    async def _record(self, recorder: Recorder, stream: str, event: Event) -> None:
        sample = isinstance(event, MetricsSampled)
        receipt = recorder.record(self.hub_id, stream, event, durable=not sample)
        while receipt.fate is Fate.REFUSED:  # the buffer is full: back-pressure on this handler
            await recorder.flush()
            receipt = recorder.record(self.hub_id, stream, event, durable=True)

    async def started_recorder(self) -> Recorder:
        """The recorder, started in the running loop on first use."""
        if self.recorder is None:
            store = await self._store_for_recorder()
            self.recorder = Recorder(store, name=f"attach-{self.hub_id}", **self.recorder_options)
            started = asyncio.get_running_loop().create_future()
            self._recorder_task = asyncio.get_running_loop().create_task(
                self.recorder.run(task_status=_Started(started))
            )
            await started
        return self.recorder

    async def _store_for_recorder(self) -> EventStore:
        """The session's store, or — while it cannot even open — one that
        opens on each append, so the recorder retries and spills the events
        of an outage that began before the first one."""
        session = self.persistence.session
        try:
            return await session.store()
        except BackendUnavailable as exc:
            log.warning("hublog: hub %s records while its backend is down: %s", self.hub_id, exc)
            codec = session.options.get("codec") or DEFAULT_CODEC  # what open_store would use
            return cast(EventStore, _OpeningStore(session, codec))  # the recorder's two needs

    async def close(self) -> None:
        """Flush and close the recorder (what it could not write is logged)."""
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            await recorder.close()
            if self._recorder_task is not None:
                await asyncio.gather(self._recorder_task, return_exceptions=True)

    # --- the seven events ---------------------------------------------------------

    async def on_instance_registered(self, data: dict[str, Any]) -> None:
        instance = self.hub.instances.get(data.get("id"), data)  # the live object has config
        observed = convert.observe(instance)
        self._health[observed.id] = changes.Health(
            observed.status, observed.health_checks_failed, False, observed.last_health_check
        )
        await self.deliver(
            "instance_registered",
            decide=lambda: self.persistence.save_instance(self.hub_id, instance),
        )

    async def on_instance_unregistered(self, data: dict[str, Any]) -> None:
        instance_id = data.get("id", "")
        self._health.pop(instance_id, None)
        await self.deliver(
            "instance_unregistered",
            decide=lambda: self.persistence.record_deregistered(instance_id, reason="unregistered"),
        )

    async def on_status_changed(self, data: dict[str, Any]) -> None:
        instance_id = data["instance_id"]
        live = self.hub.instances.get(instance_id)
        old = ResourceStatus(data.get("old_status") or ResourceStatus.UNKNOWN.value)
        current = self._health.get(instance_id) or changes.Health(old, 0, False, None)
        failures = getattr(live, "health_checks_failed", None)
        checked_at = convert.utc(getattr(live, "last_health_check", None), "last_health_check")
        target = changes.Health(
            ResourceStatus(data["new_status"]),
            current.failures if failures is None else int(failures),
            False,
            checked_at,
        )
        now = datetime.now(UTC)
        events = changes.health_events(current, target, now, reason=data.get("reason") or "")
        checks = [e for e in events if isinstance(e, HealthChecked)]
        passed = checks[-1].ok if checks else current.passed
        self._health[instance_id] = target._replace(passed=passed)
        await self.deliver("status_changed", streams.instance(instance_id), events)

    async def on_instance_recovered(self, data: dict[str, Any]) -> None:
        event = InstanceRecovered(method=str(data.get("recovery_method") or "restart"))
        await self._instance_event("instance_recovered", data["instance_id"], event)

    async def on_recovery_failed(self, data: dict[str, Any]) -> None:
        await self._instance_event("recovery_failed", data["instance_id"], RecoveryFailed())

    async def _instance_event(self, what: str, instance_id: str, event: Event) -> None:
        if instance_id in self.hub.instances:  # only while registered
            await self.deliver(what, streams.instance(instance_id), [event])

    async def on_hub_started(self, data: dict[str, Any]) -> None:
        started = HubStarted(
            resource_type=ResourceType(data.get("resource_type", self.hub.resource_type.value)),
            node_id=self.node_id,
            health_check_interval=float(self.hub.health_check_interval),
            max_health_failures=int(self.hub.max_health_failures),
            auto_recovery=bool(self.hub.enable_auto_recovery),
            settings={"persistence_interval": self.interval},
        )
        await self.deliver("hub_started", streams.HUB, [started])
        self.start_sampler()

    async def on_hub_stopped(self, data: dict[str, Any]) -> None:
        await self.stop_sampler()
        stopped = HubStopped(node_id=self.node_id, reason="stopped")
        await self.deliver("hub_stopped", streams.HUB, [stopped])
        await self.close()

    # --- metrics ------------------------------------------------------------------

    async def sample(self) -> None:
        """Record the metrics of every available instance, now."""
        now = datetime.now(UTC)
        for instance in list(self.hub.instances.values()):
            if instance.is_available():
                sample = MetricsSampled(
                    metrics=convert.metrics_of(instance.metrics), sampled_at=now
                )
                await self.deliver("metrics", streams.metrics(instance.id), [sample])

    def start_sampler(self) -> None:
        """Sample every ``interval`` seconds from now on (in the running loop)."""
        if self._sampler is None or self._sampler.done():
            self._sampler = asyncio.get_running_loop().create_task(self._sample_loop())

    async def stop_sampler(self) -> None:
        task, self._sampler = self._sampler, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _sample_loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.sample()


class _OpeningStore:
    """What the recorder needs of a store (``append`` and ``codec``), the
    session's store opened at each append until it opens: a failed open is
    BackendUnavailable, which the recorder retries and spills like a failed
    append."""

    def __init__(self, session: Any, codec: Any) -> None:
        self.session, self.codec = session, codec

    async def append(self, *args: Any, **kwargs: Any) -> Any:
        store = await self.session.store()
        return await store.append(*args, **kwargs)


class _Started:
    """``task_status`` for a recorder run as a plain asyncio task."""

    def __init__(self, future: asyncio.Future[None]) -> None:
        self.future = future

    def started(self, value: object = None) -> None:
        self.future.set_result(None)


def attach(
    hub: Any,
    persistence: HubPersistenceAdapter,
    *,
    persistence_interval: float = DEFAULT_INTERVAL,
    node_id: str = "",
    spill_dir: str | None = None,
    **recorder_options: Any,
) -> Attachment:
    """Register handlers for Gleitzeit's seven hub events and a metrics
    sampler (started by ``hub_started``, or now if the hub already runs),
    all recorded through one :class:`~eventstore.recorder.Recorder`
    (``spill_dir`` and ``recorder_options`` are its arguments).

    Raises: nothing; write failures are counted on the returned attachment.
    """
    options = {"spill_dir": spill_dir, **recorder_options}
    attachment = Attachment(
        hub, persistence, interval=persistence_interval, node_id=node_id, recorder_options=options
    )
    for name in EVENTS:
        hub.on_event(name, getattr(attachment, f"on_{name}"))
    if getattr(hub, "running", False):
        attachment.start_sampler()
    return attachment
