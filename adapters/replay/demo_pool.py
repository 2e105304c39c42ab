"""The demo's simulated world: a shared Ollama pool, its load, its failures,
and the backend it records to (an in-memory log on a simulated clock that
can be taken down).  :mod:`.demo` runs it and copies the log out.

Two Gleitzeit processes (``node-a``, ``node-b``) run one hub each on the
same pool, so both append to one hub log, each through its own
:class:`~eventstore.recorder.Recorder`; their workflows take leases on the
servers (capacity ``max_concurrent`` = 4) through the lease service.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from adapters.memory import MemoryEventStore
from eventstore import (
    BackendUnavailable,
    HealthChanged,
    HealthChecked,
    InstanceRecovered,
    InstanceRegistered,
    Metrics,
    MetricsSampled,
    OllamaConfig,
    RecoveryFailed,
    ResourceStatus,
    ResourceType,
    streams,
)
from eventstore.backend import Expected
from eventstore.envelope import AppendResult, NewEvent, StoredEvent
from eventstore.recorder import Recorder
from projections.deciders.clock import BackendClock
from projections.deciders.leases import Lease, LeaseService

TICK = timedelta(seconds=30)
LEASE_TTL = 120.0
MAX_CONCURRENT = 4
FAILING = "ollama-2"
FLAPPING = "ollama-3"
DOWN = object()


class SimulatedBackend(MemoryEventStore):
    """The log on the simulated clock; ``down`` makes every call fail as an
    unreachable server would."""

    def __init__(self, start: datetime) -> None:
        self.now_at = start
        super().__init__(clock=lambda: self.now_at)
        self.down = False

    def monotonic(self) -> float:
        return self.now_at.timestamp()

    async def _append(
        self, hub_id: str, stream: str, batch: Sequence[NewEvent], expected: Expected
    ) -> AppendResult:
        if self.down:
            raise BackendUnavailable("simulated outage: connection refused")
        return await super()._append(hub_id, stream, batch, expected)

    async def _read_stream_page(self, hub_id: str, stream: str, **kw: Any) -> Sequence[StoredEvent]:
        if self.down:
            raise BackendUnavailable("simulated outage: connection refused")
        return await super()._read_stream_page(hub_id, stream, **kw)


@dataclass
class Server:
    id: str
    port: int
    owner: str  # the node whose hub checks and samples it
    status: ResourceStatus = ResourceStatus.UNKNOWN
    failures: int = 0
    requests: int = 0
    errors: int = 0
    leases: list[tuple[str, int, int]] = field(default_factory=list)  # (owner, token, ends at tick)
    registered: bool = True


@dataclass
class Tally:
    leases: int = 0
    contended: int = 0  # a server was full: the workflow tried the next one
    waited: int = 0  # every server full, or the backend down: the workflow waited
    advice: list[str] = field(default_factory=list)


class Pool:
    """The world: decides what happens each tick and records it."""

    def __init__(self, hub_id: str, start: datetime, minutes: int, seed: int) -> None:
        self.hub_id, self.minutes = hub_id, minutes
        self.random = random.Random(seed)
        self.backend = SimulatedBackend(start)
        clock = BackendClock(self.backend, monotonic=self.backend.monotonic)
        self.leases = LeaseService(self.backend, clock=clock)
        self.servers = [Server(f"ollama-{n}", 11433 + n, "node-a") for n in (1, 2, 3)]
        self.history: dict[str, list[MetricsSampled]] = {}
        self.tally = Tally()
        self.tick_no = 0

    @property
    def now(self) -> datetime:
        return self.backend.now_at

    def phase(self, share: float) -> int:
        """The tick at ``share`` of the run."""
        return int(self.minutes * 2 * share)

    def demand(self) -> int:
        """Concurrent requests wanted: a ramp to a peak at 50 %, then down."""
        x = self.tick_no / max(1, self.minutes * 2)
        peak = 15 * math.exp(-(((x - 0.5) / 0.2) ** 2))
        return max(1, round(2 + peak + self.random.uniform(-1, 1)))

    # --- instances ----------------------------------------------------------------

    def register(self, recorder: Recorder, server: Server) -> None:
        n = int(server.id.rsplit("-", 1)[1])
        config = OllamaConfig(
            port=server.port, models=["llama3.2", "qwen2.5"], max_concurrent=MAX_CONCURRENT
        )
        event = InstanceRegistered(
            name=f"Ollama #{n}",
            resource_type=ResourceType.OLLAMA,
            endpoint=f"http://127.0.0.1:{server.port}",
            tags=frozenset({"gpu"} if n < 3 else {"cpu"}),
            capabilities=frozenset({"llama3.2", "qwen2.5"}),
            config=config,
            created_at=self.now,
            updated_at=self.now,
        )
        recorder.record(self.hub_id, streams.instance(server.id), event, durable=True)

    def check(self, recorder: Recorder, server: Server) -> None:
        ok = self._check_passes(server)
        server.failures = 0 if ok else server.failures + 1
        stream = streams.instance(server.id)
        recorder.record(
            self.hub_id,
            stream,
            HealthChecked(
                ok=ok,
                checked_at=self.now,
                latency_ms=self.random.uniform(8, 25) if ok else None,
                error=None if ok else "GET /api/tags: connection refused",
                consecutive_failures=server.failures,
            ),
        )
        wanted = _status_after(server.failures)
        if wanted is not None and wanted != server.status:
            reason = "health check passed" if ok else f"failed {server.failures} health checks"
            changed = HealthChanged(
                from_status=server.status,
                to_status=wanted,
                reason=reason,
                consecutive_failures=server.failures,
            )
            recorder.record(self.hub_id, stream, changed, durable=True)
            server.status = wanted
        if server.failures == 3:
            failed = RecoveryFailed(error="restart timed out after 20 s", attempt=1)
            recorder.record(self.hub_id, stream, failed, durable=True)
        if server.failures == 4:
            recovered = InstanceRecovered(method="restart", attempt=2)
            recorder.record(self.hub_id, stream, recovered, durable=True)

    def _check_passes(self, server: Server) -> bool:
        t = self.tick_no
        if server.id == FAILING:  # fails for 4 checks, recovers on the 2nd restart
            return not self.phase(0.35) <= t < self.phase(0.35) + 4
        if server.id == FLAPPING:  # two short flaps: degraded, then healthy again
            return t not in {self.phase(0.2), self.phase(0.2) + 1, self.phase(0.8) + 1}
        return True

    def sample(self, recorder: Recorder, server: Server) -> None:
        busy = len(server.leases)
        load = busy / MAX_CONCURRENT
        served = self.random.randint(10, 20) * max(1, busy)
        server.requests += served
        server.errors += sum(self.random.random() < 0.01 + 0.05 * load for _ in range(served // 10))
        slow = 1 + 2 * load
        metrics = Metrics(
            cpu_percent=min(99.0, 15 + 70 * load + self.random.uniform(-5, 5)),
            memory_percent=self.random.uniform(40, 60),
            memory_mb=self.random.uniform(6000, 9000),
            request_count=server.requests,
            error_count=server.errors,
            avg_response_time_ms=self.random.uniform(300, 500) * slow,
            p95_response_time_ms=self.random.uniform(900, 1200) * slow,
            p99_response_time_ms=self.random.uniform(1500, 2000) * slow,
            active_connections=busy,
            custom_metrics={"tokens_per_second": round(self.random.uniform(40, 60) / slow, 1)},
            last_updated=self.now,
        )
        sample = MetricsSampled(metrics=metrics, sampled_at=self.now)
        self.history.setdefault(server.id, []).append(sample)
        recorder.record(self.hub_id, streams.metrics(server.id), sample)

    # --- leases -------------------------------------------------------------------

    async def workflows(self) -> None:
        """End leases that are done, then take leases up to the demand."""
        live = [s for s in self.servers if s.registered and s.status.is_available]
        for server in self.servers:
            for lease in [x for x in server.leases if x[2] <= self.tick_no]:
                released = await self._try(self.leases.release(self.hub_id, server.id, *lease[:2]))
                if released is not DOWN:  # False: it ran out meanwhile, gone all the same
                    server.leases.remove(lease)
        wanted = self.demand() - sum(len(s.leases) for s in live)
        for n in range(max(0, wanted)):
            node = "node-a" if n % 2 == 0 else "node-b"
            await self._take_one(f"{node}/workflow-{self.random.randint(1000, 9999)}", live)

    async def _take_one(self, owner: str, live: list[Server]) -> None:
        for server in sorted(live, key=lambda s: (len(s.leases), self.random.random())):
            lease = await self._try(
                self.leases.acquire(
                    self.hub_id, server.id, owner, ttl=LEASE_TTL, capacity=MAX_CONCURRENT
                )
            )
            if lease is None:
                self.tally.contended += 1
                continue
            if lease is DOWN:
                break
            ends = self.tick_no + self.random.randint(1, 4)
            assert isinstance(lease, Lease)
            server.leases.append((owner, lease.token, ends))
            self.tally.leases += 1
            return
        self.tally.waited += 1

    async def _try(self, call: object) -> object:
        """The call's answer, or DOWN while the backend is down (the
        workflow waits for the next tick)."""
        try:
            return await call  # type: ignore[misc]
        except BackendUnavailable:
            return DOWN


def _status_after(failures: int) -> ResourceStatus | None:
    """Gleitzeit's thresholds: pass -> healthy, 2 -> degraded, >= 3 -> unhealthy."""
    if failures == 0:
        return ResourceStatus.HEALTHY
    if failures == 2:
        return ResourceStatus.DEGRADED
    if failures >= 3:
        return ResourceStatus.UNHEALTHY
    return None
