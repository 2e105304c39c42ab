"""``attach(hub, persistence)``: what a Gleitzeit 0.0.5 hub never sends
reaches the log anyway.

A real hub calls only ``save_instance`` and ``delete_instance``; status
changes, recoveries, start and stop exist only as ``hub.on_event`` callbacks,
and metrics only in ``instance.metrics``.  An :class:`Attachment` registers a
handler for each of the seven events and samples metrics every
``persistence_interval`` seconds while the hub runs.  Every write goes
through :meth:`Attachment.deliver` — the one place to put a buffered
recorder later — which logs and counts a failure (Gleitzeit would swallow
an exception from a handler).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from eventstore import streams
from eventstore.events import HubStarted, HubStopped, InstanceRecovered, RecoveryFailed
from eventstore.values import ResourceStatus, ResourceType

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
        self, hub: Any, persistence: HubPersistenceAdapter, *, interval: float, node_id: str
    ) -> None:
        self.hub = hub
        self.persistence = persistence
        self.interval = interval
        self.node_id = node_id
        self.delivered = 0
        self.failures = 0
        self.last_error: BaseException | None = None
        self._sampler: asyncio.Task[None] | None = None

    @property
    def hub_id(self) -> str:
        return str(self.hub.hub_id)

    async def deliver(self, what: str, write: Callable[[], Awaitable[Any]]) -> None:
        """Run one write; a failure is logged and counted, never raised into
        the hub (whose own loops would swallow it unseen)."""
        try:
            await write()
        except Exception as exc:  # any failure: recorded here, not lost
            self.failures += 1
            self.last_error = exc
            log.exception("hublog: recording %s for hub %s failed", what, self.hub_id)
        else:
            self.delivered += 1

    # --- the seven events ---------------------------------------------------------

    async def on_instance_registered(self, data: dict[str, Any]) -> None:
        instance = self.hub.instances.get(data.get("id"), data)  # the live object has config
        await self.deliver(
            "instance_registered", lambda: self.persistence.save_instance(self.hub_id, instance)
        )

    async def on_instance_unregistered(self, data: dict[str, Any]) -> None:
        instance_id = data.get("id", "")
        await self.deliver(
            "instance_unregistered",
            lambda: self.persistence.record_deregistered(instance_id, reason="unregistered"),
        )

    async def on_status_changed(self, data: dict[str, Any]) -> None:
        instance_id = data["instance_id"]
        live = self.hub.instances.get(instance_id)
        failures = getattr(live, "health_checks_failed", None)
        checked_at = getattr(live, "last_health_check", None)
        await self.deliver(
            "status_changed",
            lambda: self.persistence.record_status(
                self.hub_id,
                instance_id,
                ResourceStatus(data["new_status"]),
                reason=data.get("reason") or "",
                failures=failures,
                checked_at=checked_at,
            ),
        )

    async def on_instance_recovered(self, data: dict[str, Any]) -> None:
        event = InstanceRecovered(method=str(data.get("recovery_method") or "restart"))
        await self._instance_event("instance_recovered", data["instance_id"], event)

    async def on_recovery_failed(self, data: dict[str, Any]) -> None:
        await self._instance_event("recovery_failed", data["instance_id"], RecoveryFailed())

    async def _instance_event(self, what: str, instance_id: str, event: Any) -> None:
        await self.deliver(
            what, lambda: self.persistence.record_if_live(self.hub_id, instance_id, [event])
        )

    async def on_hub_started(self, data: dict[str, Any]) -> None:
        started = HubStarted(
            resource_type=ResourceType(data.get("resource_type", self.hub.resource_type.value)),
            node_id=self.node_id,
            health_check_interval=float(self.hub.health_check_interval),
            max_health_failures=int(self.hub.max_health_failures),
            auto_recovery=bool(self.hub.enable_auto_recovery),
            settings={"persistence_interval": self.interval},
        )
        await self.deliver(
            "hub_started", lambda: self.persistence.record(self.hub_id, streams.HUB, [started])
        )
        self.start_sampler()

    async def on_hub_stopped(self, data: dict[str, Any]) -> None:
        await self.stop_sampler()
        stopped = HubStopped(node_id=self.node_id, reason="stopped")
        await self.deliver(
            "hub_stopped", lambda: self.persistence.record(self.hub_id, streams.HUB, [stopped])
        )

    # --- metrics ------------------------------------------------------------------

    async def sample(self) -> None:
        """Record the metrics of every available instance, now."""
        for instance in list(self.hub.instances.values()):
            if instance.is_available():
                await self.deliver(
                    "metrics", _saver(self.persistence, instance.id, instance.metrics)
                )

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


def _saver(
    persistence: HubPersistenceAdapter, instance_id: str, metrics: Any
) -> Callable[[], Awaitable[None]]:
    return lambda: persistence.save_metrics(instance_id, metrics)


def attach(
    hub: Any,
    persistence: HubPersistenceAdapter,
    *,
    persistence_interval: float = DEFAULT_INTERVAL,
    node_id: str = "",
) -> Attachment:
    """Register handlers for Gleitzeit's seven hub events and a metrics
    sampler (started by ``hub_started``, or now if the hub already runs).

    Raises: nothing; write failures are counted on the returned attachment.
    """
    attachment = Attachment(hub, persistence, interval=persistence_interval, node_id=node_id)
    for name in EVENTS:
        hub.on_event(name, getattr(attachment, f"on_{name}"))
    if getattr(hub, "running", False):
        attachment.start_sampler()
    return attachment
