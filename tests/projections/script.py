"""Writing a hub's life into the log in a few lines, and checking a stored
read model against the fold of the same log."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from eventstore import (
    EventStore,
    HealthChanged,
    HealthChecked,
    HubStarted,
    InstanceDeregistered,
    InstanceRegistered,
    LockExpired,
    LockGranted,
    LockReleased,
    LockRenewed,
    Metrics,
    MetricsSampled,
    OllamaConfig,
    ResourceStatus,
    ResourceType,
)
from projections import Projection, ProjectionRunner, ReadModels, ReadModelStore, fold, rows
from tests.deadlines import within

HUB = "ollama-pool"
S = ResourceStatus


class Script:
    """Appends events for one hub, keeping what a well-behaved hub would
    (failure counts, lease tokens) so a test only states what matters."""

    def __init__(self, store: EventStore, hub: str = HUB) -> None:
        self.store = store
        self.hub = hub
        self.failures: dict[str, int] = {}
        self.tokens: dict[str, int] = {}

    async def append(self, stream: str, *events: Any) -> int:
        return (await self.store.append(self.hub, stream, list(events))).last_position

    async def started(self, max_failures: int = 3) -> int:
        return await self.append(
            "hub", HubStarted(resource_type=ResourceType.OLLAMA, max_health_failures=max_failures)
        )

    async def register(self, iid: str, status: ResourceStatus = S.UNKNOWN, **fields: Any) -> int:
        self.failures[iid] = 0
        event = InstanceRegistered(
            name=iid,
            resource_type=ResourceType.OLLAMA,
            endpoint=f"http://{iid}:11434",
            status=status,
            config=OllamaConfig(host=iid, models=["llama3"]),
            tags=frozenset({"gpu"}),
            **fields,
        )
        return await self.append(f"instance/{iid}", event)

    async def check(
        self, iid: str, ok: bool, at: datetime | None = None, failures: int | None = None
    ) -> int:
        expected = 0 if ok else self.failures.get(iid, 0) + 1
        self.failures[iid] = expected if failures is None else failures
        event = HealthChecked(
            ok=ok,
            checked_at=at or await self.store.now(),
            latency_ms=12.5,
            error=None if ok else "connection refused",
            consecutive_failures=self.failures[iid],
        )
        return await self.append(f"instance/{iid}", event)

    async def change(
        self, iid: str, frm: ResourceStatus, to: ResourceStatus, reason: str = ""
    ) -> int:
        event = HealthChanged(
            from_status=frm, to_status=to, reason=reason, consecutive_failures=self.failures[iid]
        )
        return await self.append(f"instance/{iid}", event)

    async def healthy(self, iid: str) -> int:
        """Register, pass a check, become healthy."""
        await self.register(iid)
        await self.check(iid, True)
        return await self.change(iid, S.UNKNOWN, S.HEALTHY)

    async def deregister(self, iid: str) -> int:
        return await self.append(f"instance/{iid}", InstanceDeregistered(reason="scaled down"))

    async def sample(
        self, iid: str, at: datetime, requests: int = 0, errors: int = 0, **values: Any
    ) -> int:
        metrics = Metrics(request_count=requests, error_count=errors, last_updated=at, **values)
        return await self.append(f"metrics/{iid}", MetricsSampled(metrics=metrics, sampled_at=at))

    async def grant(
        self,
        resource: str,
        owner: str,
        ttl: float = 30.0,
        capacity: int = 1,
        token: int | None = None,
    ) -> int:
        self.tokens[resource] = token if token is not None else self.tokens.get(resource, 0) + 1
        expires = await self.store.now() + timedelta(seconds=ttl)
        event = LockGranted(
            owner=owner,
            token=self.tokens[resource],
            ttl_s=ttl,
            expires_at=expires,
            capacity=capacity,
        )
        return await self.append(f"lock/{resource}", event)

    async def renew(self, resource: str, owner: str, token: int, ttl: float = 30.0) -> int:
        expires = await self.store.now() + timedelta(seconds=ttl)
        return await self.append(
            f"lock/{resource}", LockRenewed(owner=owner, token=token, ttl_s=ttl, expires_at=expires)
        )

    async def release(self, resource: str, owner: str, token: int) -> int:
        return await self.append(f"lock/{resource}", LockReleased(owner=owner, token=token))

    async def expire(self, resource: str, owner: str, token: int) -> int:
        return await self.append(f"lock/{resource}", LockExpired(owner=owner, token=token))


async def run(
    store: EventStore, storage: ReadModelStore, projection: Projection, hub: str = HUB, **kw: Any
) -> int:
    """Catch the stored read model up with the log (failing, not hanging, if it cannot)."""
    with within(f"catching {projection.name} of {hub!r} up"):
        return await ProjectionRunner(store, storage, projection, hub, **kw).catch_up()


async def folded_rows(
    store: EventStore, projection: Projection, hub: str = HUB
) -> dict[str, dict[str, Any]]:
    """The rows of the read model folded all at once from the log, in memory."""
    return rows(projection, fold(projection, [e async for e in store.read_log(hub)]))


async def stored_rows(
    storage: ReadModelStore, projection: Projection, hub: str = HUB
) -> dict[str, dict[str, Any]]:
    return await ReadModels(storage).all_rows(projection, hub)
