"""``hublog demo``: a simulated Ollama pool that lives through a small incident.

Three Ollama servers are registered; every 30 simulated seconds each is
health-checked and sampled; leases come and go (capacity 4, as Ollama's
``max_concurrent``).  At minute 12 one server starts failing: degraded after
two failed checks, unhealthy after three, a recovery attempt fails, the next
one succeeds, and checks pass again.  Everything is appended to the log with
expected versions, exactly as a hub would.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from eventstore import (
    NO_STREAM,
    Event,
    EventStore,
    HealthChanged,
    HealthChecked,
    HubStarted,
    HubStopped,
    InstanceRecovered,
    InstanceRegistered,
    LockGranted,
    LockReleased,
    Metrics,
    MetricsSampled,
    OllamaConfig,
    RecoveryFailed,
    ResourceStatus,
    ResourceType,
    streams,
)

TICK = timedelta(seconds=30)
LEASE = timedelta(minutes=2)
FAILING = "ollama-2"


@dataclass
class _Server:
    id: str
    status: ResourceStatus = ResourceStatus.UNKNOWN
    failures: int = 0
    requests: int = 0
    errors: int = 0
    leases: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class DemoResult:
    hub_id: str
    events: int
    head: int


class _Pool:
    """The simulated hub: decides what happens and appends it."""

    def __init__(self, store: EventStore, hub_id: str, start: datetime, seed: int) -> None:
        self.store, self.hub_id, self.now = store, hub_id, start
        self.random = random.Random(seed)
        self.servers = [_Server(f"ollama-{n}") for n in (1, 2, 3)]
        self.versions: dict[str, int] = {}
        self.appended = 0

    async def emit(self, stream: str, *events: Event) -> None:
        expected = self.versions.get(stream, 0) or NO_STREAM
        result = await self.store.append(
            self.hub_id, stream, list(events), expected_version=expected
        )
        self.versions[stream] = result.version
        self.appended += len(events)

    async def start(self) -> None:
        await self.emit(streams.HUB, HubStarted(resource_type=ResourceType.OLLAMA, node_id="demo"))
        for n, server in enumerate(self.servers, start=1):
            config = OllamaConfig(
                port=11433 + n, models=["llama3.2", "qwen2.5"], process_id=4000 + n
            )
            await self.emit(
                streams.instance(server.id),
                InstanceRegistered(
                    name=f"Ollama #{n}",
                    resource_type=ResourceType.OLLAMA,
                    endpoint=f"http://127.0.0.1:{11433 + n}",
                    tags=frozenset({"gpu"} if n < 3 else {"cpu"}),
                    capabilities=frozenset({"llama3.2", "qwen2.5"}),
                    config=config,
                    created_at=self.now,
                    updated_at=self.now,
                ),
            )

    async def tick(self, minute: float) -> None:
        for server in self.servers:
            ok = not (server.id == FAILING and 12 <= minute < 14)
            await self.check(server, ok, minute)
            if server.status.is_available:
                await self.sample(server, minute)
                await self.lease(server)
        self.now += TICK

    async def check(self, server: _Server, ok: bool, minute: float) -> None:
        server.failures = 0 if ok else server.failures + 1
        latency = self.random.uniform(8, 25) if ok else None
        stream = streams.instance(server.id)
        await self.emit(
            stream,
            HealthChecked(
                ok=ok,
                checked_at=self.now,
                latency_ms=latency,
                error=None if ok else "GET /api/tags: connection refused",
                consecutive_failures=server.failures,
            ),
        )
        wanted = _status_after(server.failures)
        if wanted is not None and wanted != server.status:
            reason = "health check passed" if ok else f"failed {server.failures} health checks"
            await self.emit(
                stream,
                HealthChanged(
                    from_status=server.status,
                    to_status=wanted,
                    reason=reason,
                    consecutive_failures=server.failures,
                ),
            )
            server.status = wanted
        if server.failures == 3:
            await self.emit(stream, RecoveryFailed(error="restart timed out after 20 s", attempt=1))
        if server.failures == 4:
            await self.emit(stream, InstanceRecovered(method="restart", attempt=2))

    async def sample(self, server: _Server, minute: float) -> None:
        load = 0.6 + 0.4 * (server.id != FAILING or minute < 10)
        server.requests += self.random.randint(20, 40)
        server.errors += self.random.random() < 0.1
        metrics = Metrics(
            cpu_percent=self.random.uniform(30, 70) * load,
            memory_percent=self.random.uniform(40, 60),
            memory_mb=self.random.uniform(6000, 9000),
            request_count=server.requests,
            error_count=server.errors,
            avg_response_time_ms=self.random.uniform(300, 900) / load,
            p95_response_time_ms=self.random.uniform(900, 1800) / load,
            p99_response_time_ms=self.random.uniform(1800, 2600) / load,
            active_connections=len(server.leases),
            custom_metrics={"tokens_per_second": round(self.random.uniform(20, 60), 1)},
            last_updated=self.now,
        )
        await self.emit(
            streams.metrics(server.id), MetricsSampled(metrics=metrics, sampled_at=self.now)
        )

    async def lease(self, server: _Server) -> None:
        stream = streams.lock(server.id)
        if server.leases and self.random.random() < 0.5:
            owner, token = server.leases.pop(0)
            await self.emit(stream, LockReleased(owner=owner, token=token))
        elif len(server.leases) < 4 and self.random.random() < 0.6:
            token = self.versions.get(stream, 0) + 1
            owner = f"workflow-{self.random.randint(100, 999)}"
            await self.emit(
                stream,
                LockGranted(
                    owner=owner,
                    token=token,
                    ttl_s=LEASE.total_seconds(),
                    # Leases live on the backend's clock, not the simulated one:
                    # that is the clock expiry is judged by.
                    expires_at=await self.store.now() + LEASE,
                    capacity=4,
                ),
            )
            server.leases.append((owner, token))


def _status_after(failures: int) -> ResourceStatus | None:
    """Gleitzeit's thresholds: pass -> healthy, 2 -> degraded, >= 3 -> unhealthy."""
    if failures == 0:
        return ResourceStatus.HEALTHY
    if failures == 2:
        return ResourceStatus.DEGRADED
    if failures >= 3:
        return ResourceStatus.UNHEALTHY
    return None


async def run_demo(
    store: EventStore,
    *,
    minutes: int = 30,
    seed: int = 7,
    progress: Callable[[str], None] = lambda _: None,
) -> DemoResult:
    """Simulate ``minutes`` of a pool ending "now"; returns the hub it wrote."""
    existing = [h for h in await store.hubs() if h.startswith("demo-pool")]
    hub_id = "demo-pool" if not existing else f"demo-pool-{len(existing) + 1}"
    pool = _Pool(store, hub_id, await store.now() - timedelta(minutes=minutes), seed)
    progress(f"simulating {minutes} minutes of hub {hub_id!r} with 3 Ollama servers")
    await pool.start()
    for step in range(minutes * 2):
        await pool.tick(step / 2)
    await pool.emit(streams.HUB, HubStopped(node_id="demo", reason="demo finished"))
    return DemoResult(hub_id, pool.appended, await store.head(hub_id))
