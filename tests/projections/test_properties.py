"""The property every backend's read models keep: for random event
sequences — valid, invalid and poisonous — folding all at once equals
folding in random chunks with a restart between them, equals a rebuild from
0, and a snapshot plus the tail equals a full replay."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore import (
    DockerConfig,
    Event,
    EventStore,
    HealthChanged,
    HealthChecked,
    HubStarted,
    InstanceDeregistered,
    InstanceRecovered,
    InstanceRegistered,
    InstanceUpdated,
    LockExpired,
    LockGranted,
    LockReleased,
    LockRenewed,
    Metrics,
    MetricsRolledUp,
    MetricsSampled,
    OllamaConfig,
    RecoveryFailed,
    ResourceStatus,
    ResourceType,
    RollupBucket,
    ScalingAdvised,
)
from projections import (
    HealthProjection,
    HubProjection,
    MetricsProjection,
    ProjectionRunner,
    ReadModelStore,
    RetentionPolicy,
    fold,
    rebuild,
    rows,
    state_at,
)
from projections.policy import floor_to
from projections.tables import trim
from tests.deadlines import within
from tests.projections.script import stored_rows
from tests.projections.test_runner import FakeHealthChecked, MysteryHappened, append_foreign

pytestmark = pytest.mark.anyio

IDS = ["a", "b", "a/b"]
OWNERS = ["node-1", "node-2", "node-3"]
STATUSES = list(ResourceStatus)
# Short windows, so that expiry by the log's clock happens in these tests too.
PROJECTIONS = [
    HubProjection(),
    HealthProjection(),
    MetricsProjection(RetentionPolicy(raw_s=3600, minute_s=2 * 3600, hour_s=3 * 3600)),
]

ops = st.one_of(
    st.tuples(st.just("register"), st.sampled_from(IDS), st.sampled_from([0, 0, 0, 1, 2])),
    st.tuples(st.just("deregister"), st.sampled_from(IDS)),
    st.tuples(st.just("check"), st.sampled_from(IDS), st.booleans(), st.booleans()),
    st.tuples(st.just("change"), st.sampled_from(IDS), st.sampled_from(STATUSES), st.booleans()),
    st.tuples(st.just("update"), st.sampled_from(IDS)),
    st.tuples(st.just("recover"), st.sampled_from(IDS), st.booleans()),
    st.tuples(
        st.just("sample"),
        st.sampled_from(IDS),
        st.integers(-60, 1800),  # seconds after the series' last sample
        st.integers(-5, 50),  # requests since then
        st.integers(-1, 8),  # errors since then
    ),
    st.tuples(
        st.just("rollup"), st.sampled_from(IDS), st.sampled_from([60, 3600]), st.integers(0, 6)
    ),
    st.tuples(
        st.just("grant"),
        st.sampled_from(IDS),
        st.sampled_from(OWNERS),
        st.sampled_from([-10.0, 30.0, 3600.0]),  # already expired, or not
        st.integers(1, 3),
        st.integers(-1, 2),  # token step: 1 is right
    ),
    st.tuples(
        st.just("lease"),
        st.sampled_from(["renew", "release", "expire"]),
        st.sampled_from(IDS),
        st.sampled_from(OWNERS),
        st.integers(0, 4),
    ),
    st.tuples(st.just("hub"), st.integers(2, 4)),
    st.tuples(st.just("poison"), st.sampled_from(IDS), st.booleans()),
)


@dataclass
class World:
    """What a writer knows while it makes events, so most of them make sense."""

    base: datetime
    failures: dict[str, int] = field(default_factory=dict)
    status: dict[str, ResourceStatus] = field(default_factory=dict)
    sampled: dict[str, tuple[datetime, int, int]] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)


def event_for(op: tuple[Any, ...], world: World, now: datetime) -> tuple[str, Event]:
    kind, *args = op
    if kind == "register":
        iid, status = (
            args[0],
            [ResourceStatus.UNKNOWN, ResourceStatus.STARTING, ResourceStatus.HEALTHY][args[1]],
        )
        world.failures[iid], world.status[iid] = 0, status
        config = OllamaConfig(host=iid) if len(iid) == 1 else DockerConfig(container_id=iid)
        return f"instance/{iid}", InstanceRegistered(
            name=iid,
            resource_type=ResourceType.OLLAMA,
            endpoint=f"http://{iid}",
            status=status,
            config=config,
        )
    if kind == "deregister":
        return f"instance/{args[0]}", InstanceDeregistered(reason="gone")
    if kind == "check":
        iid, ok, consistent = args
        expected = 0 if ok else world.failures.get(iid, 0) + 1
        world.failures[iid] = expected if consistent else expected + 2
        return f"instance/{iid}", HealthChecked(
            ok=ok, checked_at=now, latency_ms=3.0, consecutive_failures=world.failures[iid]
        )
    if kind == "change":
        iid, to, consistent = args
        frm = world.status.get(iid, ResourceStatus.UNKNOWN) if consistent else ResourceStatus.ERROR
        world.status[iid] = to
        return f"instance/{iid}", HealthChanged(from_status=frm, to_status=to, reason="test")
    if kind == "update":
        return f"instance/{args[0]}", InstanceUpdated(
            endpoint="http://moved", tags=frozenset({"x"})
        )
    if kind == "recover":
        return f"instance/{args[0]}", InstanceRecovered(attempt=2) if args[1] else RecoveryFailed(
            error="no"
        )
    if kind == "sample":
        return sample_for(world, *args)
    if kind == "rollup":
        iid, resolution, hours_back = args
        start = floor_to(world.base - timedelta(hours=hours_back), resolution)
        bucket = RollupBucket(
            start=start, count=2, stats={"cpu_percent": (1.0, 2.0, 1.5)}, p95_response_time_ms=4.0
        )
        return f"metrics/{iid}", MetricsRolledUp(
            resolution_s=resolution, through_version=0, buckets=(bucket,)
        )
    if kind == "grant":
        resource, owner, ttl, capacity, step = args
        world.tokens[resource] = world.tokens.get(resource, 0) + step
        return f"lock/{resource}", LockGranted(
            owner=owner,
            token=world.tokens[resource],
            ttl_s=abs(ttl),
            expires_at=now + timedelta(seconds=ttl),
            capacity=capacity,
        )
    if kind == "lease":
        what, resource, owner, token = args
        stream = f"lock/{resource}"
        if what == "renew":
            return stream, LockRenewed(
                owner=owner, token=token, ttl_s=60.0, expires_at=now + timedelta(seconds=60)
            )
        return stream, (LockReleased if what == "release" else LockExpired)(
            owner=owner, token=token
        )
    if kind == "hub":
        if args[0] == 4:
            return "hub", ScalingAdvised(action="hold", current_instances=2, suggested_instances=2)
        return "hub", HubStarted(resource_type=ResourceType.OLLAMA, max_health_failures=args[0])
    raise AssertionError(op)


def sample_for(
    world: World, iid: str, seconds: int, requests: int, errors: int
) -> tuple[str, Event]:
    at, total, failed = world.sampled.get(iid, (world.base, 0, 0))
    at, total, failed = at + timedelta(seconds=seconds), total + requests, failed + errors
    world.sampled[iid] = (at, total, failed)
    metrics = Metrics(
        request_count=total,
        error_count=failed,
        cpu_percent=float(seconds % 100),
        avg_response_time_ms=float(requests),
        custom_metrics={"queue": errors, "name": "x"},
    )
    return f"metrics/{iid}", MetricsSampled(metrics=metrics, sampled_at=at)


async def write(store: EventStore, hub: str, sequence: list[tuple[Any, ...]]) -> None:
    world = World(base=floor_to(await store.now(), 60) - timedelta(hours=4))
    for op in sequence:
        now = await store.now()
        if op[0] == "poison":
            event = FakeHealthChecked() if op[2] else MysteryHappened(detail="?")
            await append_foreign(store, f"instance/{op[1]}", [event], hub=hub)
            continue
        stream, event = event_for(op, world, now)
        await store.append(hub, stream, [event])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sequence=st.lists(ops, min_size=1, max_size=40),
    chunks=st.lists(st.integers(1, 12), min_size=1, max_size=5),
    batch_size=st.integers(1, 9),
    snapshot_every=st.integers(1, 8),
    probes=st.lists(st.floats(0, 1), min_size=1, max_size=4),
)
async def test_all_at_once_equals_chunks_with_restarts_equals_rebuild_equals_snapshot_and_tail(
    store: EventStore,
    storage: ReadModelStore,
    sequence: list[tuple[Any, ...]],
    chunks: list[int],
    batch_size: int,
    snapshot_every: int,
    probes: list[float],
) -> None:
    hub = f"hub-{uuid.uuid4().hex[:8]}"  # examples share the store: each gets its own hub
    await write(store, hub, sequence)
    events = [e async for e in store.read_log(hub)]
    head = await store.head(hub)

    for projection in PROJECTIONS:
        at_once = rows(projection, fold(projection, events))
        snapshots = snapshot_every if isinstance(projection, HubProjection) else None
        for size in itertools.cycle(chunks):  # a new runner for every chunk: a restart
            runner = ProjectionRunner(
                store, storage, projection, hub, batch_size=batch_size, snapshot_every=snapshots
            )
            with within(f"a chunk of {size} events of {projection.name}"):
                if await runner.catch_up(max_events=size) == head:
                    break
        assert await stored_rows(storage, projection, hub) == at_once

        if isinstance(projection, HubProjection):
            for probe in probes:
                position = round(probe * head)
                view = await state_at(store, storage, hub, position=position)
                replay = trim(fold(projection, events[:position]))
                assert (view.instances, view.locks, view.summary) == (
                    replay.instances,
                    replay.locks,
                    replay.summary,
                )
                assert view.replayed <= snapshot_every + batch_size

        assert await rebuild(store, storage, projection, hub, batch_size=batch_size) == head
        assert await stored_rows(storage, projection, hub) == at_once
