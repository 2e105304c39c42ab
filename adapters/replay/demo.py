"""``hublog demo``: two Gleitzeit processes sharing an Ollama pool live
through an incident, and the log shows it on its own time axis.

The story (``--minutes`` long, 30 s ticks; the world is :mod:`.demo_pool`):
demand ramps up to a peak at 50 % of the run and falls again; ``ollama-3``
flaps (degraded, healthy again); at 35 % ``ollama-2`` fails — degraded,
unhealthy, a restart that fails, one that works — and recovers; workflows
of both processes contend for the servers' 4 slots through the lease
service; every 2 minutes the advisor looks at the last 10 minutes and
node-b acts on its advice (a 4th server joins at the peak and leaves when
the load is gone); from 50 % to 58 % the backend is down, and both
recorders ride it out by spilling to their files, drained in order when it
returns.

How the times are made: the simulation records into an in-memory log whose
clock *is* the simulated clock, so ``recorded_at`` (and lease expiry, which
the lease service judges by that clock) moves with the incident.  At the
end the log is copied into the target store with ``import_events``, the
path ``hublog import`` uses, which keeps positions, ids and recorded times.
The simulated span ends now, so ``--since 30m`` finds it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from eventstore import (
    EventStore,
    HubStarted,
    HubStopped,
    InstanceDeregistered,
    ResourceType,
    streams,
)
from eventstore.envelope import RecordedEvent, StoredEvent
from eventstore.recorder import Recorder
from projections.advisor import Advice, ScalingPolicy, advise

from ..hub.advice import record_advice
from .demo_pool import FAILING, TICK, Pool, Server
from .errors import InvalidInput

__all__ = ["FAILING", "DemoResult", "run_demo"]

POLICY = ScalingPolicy(
    max_concurrent=4, window_s=600, min_instances=3, max_instances=4, cooldown_s=300
)
ADVISE_EVERY = 4  # ticks: every 2 simulated minutes
IMPORT_PAGE = 500


@dataclass
class DemoResult:
    hub_id: str
    events: int
    head: int
    start: str = ""
    end: str = ""
    figures: dict[str, dict[str, object]] = field(default_factory=dict)
    leases: int = 0
    contended: int = 0
    advice: list[str] = field(default_factory=list)


async def run_demo(
    store: EventStore,
    *,
    minutes: int = 30,
    seed: int = 7,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> DemoResult:
    """Simulate ``minutes`` of the pool ending now, and copy the log into
    ``store`` as hub ``demo-pool`` (``demo-pool-N`` if taken).

    Raises: InvalidInput for fewer than 1 minute; BackendUnavailable,
    StoreClosed (of ``store``).
    """
    if minutes < 1:
        raise InvalidInput(f"the demo's minutes must be at least 1, got {minutes}")
    existing = [h for h in await store.hubs() if h.startswith("demo-pool")]
    hub_id = "demo-pool" if not existing else f"demo-pool-{len(existing) + 1}"
    end = await store.now()
    pool = Pool(hub_id, end - timedelta(minutes=minutes), minutes, seed)
    with tempfile.TemporaryDirectory(prefix="hublog-demo-") as spill_dir:
        nodes = {n: _recorder(pool, spill_dir, n) for n in ("node-a", "node-b")}
        async with nodes["node-a"] as a, nodes["node-b"] as b:
            await _simulate(pool, a, b, progress)
    result = DemoResult(hub_id, 0, 0, figures={n: _figures(r) for n, r in nodes.items()})
    result.events = await _copy(pool, store, hub_id)
    result.head = await store.head(hub_id)
    result.start, result.end = _iso(end - timedelta(minutes=minutes)), _iso(pool.now)
    result.leases, result.contended = pool.tally.leases, pool.tally.contended
    result.advice = pool.tally.advice
    return result


def _recorder(pool: Pool, spill_dir: str, node: str) -> Recorder:
    # Flushed at every tick by the simulation; spill at the first failure,
    # since simulated time does not pass while real retries sleep.
    return Recorder(pool.backend, spill_dir=Path(spill_dir), name=node, spill_after=0.0)


async def _simulate(
    pool: Pool, a: Recorder, b: Recorder, progress: Callable[[int, int], None]
) -> None:
    for node, recorder in (("node-a", a), ("node-b", b)):
        started = HubStarted(resource_type=ResourceType.OLLAMA, node_id=node)
        recorder.record(pool.hub_id, streams.HUB, started, durable=True)
    for server in pool.servers:
        pool.register(a, server)
    await _flush(a, b)
    ticks = pool.minutes * 2
    previous: Advice | None = None
    for tick in range(ticks):
        pool.tick_no = tick
        was_down = pool.backend.down
        pool.backend.down = pool.phase(0.5) <= tick < pool.phase(0.58)
        if was_down and not pool.backend.down:  # back: drain the spill files first, in order
            for recorder in (a, b):
                await recorder.drain_spill()
        for server in pool.servers:
            if server.registered:
                recorder = a if server.owner == "node-a" else b
                pool.check(recorder, server)
        await pool.workflows()
        for server in pool.servers:
            if server.registered and server.status.is_available:
                pool.sample(a if server.owner == "node-a" else b, server)
        await _flush(a, b)  # the samples are in before any deregistration the advice brings
        if tick % ADVISE_EVERY == ADVISE_EVERY - 1:
            previous = _advise(pool, a, b, previous)
            await _flush(a, b)
        progress(tick + 1, ticks)
        pool.backend.now_at += TICK
    for node, recorder in (("node-a", a), ("node-b", b)):
        stopped = HubStopped(node_id=node, reason="demo finished")
        recorder.record(pool.hub_id, streams.HUB, stopped, durable=True)
    await _flush(a, b)


async def _flush(*recorders: Recorder) -> None:
    for recorder in recorders:
        await recorder.flush()


def _advise(pool: Pool, a: Recorder, b: Recorder, previous: Advice | None) -> Advice:
    live = {s.id for s in pool.servers if s.registered}
    history = {iid: samples for iid, samples in pool.history.items() if iid in live}
    advice = advise(history, policy=POLICY, previous=previous)
    record_advice(a, pool.hub_id, advice)
    pool.tally.advice.append(
        f"{pool.now:%H:%M} {advice.action} {advice.current_instances}->"
        f"{advice.suggested_instances}: {advice.reason}"
    )
    _act(pool, b, advice)
    return advice


def _act(pool: Pool, b: Recorder, advice: Advice) -> None:
    """node-b runs the autoscaler: a 4th server joins, later leaves."""
    extra = next((s for s in pool.servers if s.id == "ollama-4"), None)
    if advice.action == "scale_up" and extra is None:
        server = Server("ollama-4", 11437, "node-b")
        pool.servers.append(server)
        pool.register(b, server)
    elif advice.action == "scale_down" and extra is not None and extra.registered:
        extra.registered = False
        gone = InstanceDeregistered(reason="scaled down by the advisor")
        b.record(pool.hub_id, streams.instance(extra.id), gone, durable=True)


def _figures(recorder: Recorder) -> dict[str, object]:
    t = recorder.stats.total
    return {
        "recorded": t.recorded,
        "appended": t.appended,
        "spilled": t.spilled,
        "drained": t.drained,
        "coalesced": t.coalesced,
        "dropped": sum(t.dropped.values()),
    }


async def _copy(pool: Pool, store: EventStore, hub_id: str) -> int:
    """The simulated log into ``store``, recorded times kept."""
    page: list[StoredEvent] = []
    written = 0
    async for event in pool.backend.read_log(hub_id):
        page.append(_stored(pool, event))
        if len(page) == IMPORT_PAGE:
            written += await store.import_events(hub_id, page)
            page = []
    if page:
        written += await store.import_events(hub_id, page)
    return written


def _stored(pool: Pool, event: RecordedEvent) -> StoredEvent:
    encoded = pool.backend.codec.encode(event.event)  # type: ignore[arg-type]
    return StoredEvent(
        hub_id=event.hub_id,
        stream=event.stream,
        version=event.version,
        position=event.position,
        event_id=event.event_id,
        type=event.type,
        schema_version=event.schema_version,
        data=encoded.data,
        recorded_at=event.recorded_at,
        correlation_id=event.correlation_id,
        causation_id=event.causation_id,
    )


def _iso(when: object) -> str:
    return f"{when:%Y-%m-%dT%H:%M:%SZ}"
