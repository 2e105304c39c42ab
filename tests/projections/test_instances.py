"""The instances read model and hub summary (hub projection), on every backend."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eventstore import DockerConfig, EventStore, InstanceRecovered, InstanceUpdated, RecoveryFailed
from projections import HubProjection, ReadModels, ReadModelStore
from tests.projections.script import HUB, S, Script, folded_rows, run, stored_rows

pytestmark = pytest.mark.anyio

HUBP = HubProjection()
CREATED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


async def kinds(reader: ReadModels) -> list[str]:
    return [a.kind for a in await reader.anomalies(HUBP, HUB)]


async def test_an_instance_keeps_every_field_gleitzeit_has(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    await script.register(
        "a",
        metadata={"zone": "eu", "weights": [1, 2]},
        capabilities=frozenset({"llama3"}),
        created_at=CREATED,
    )
    await script.check("a", True)
    await script.append(
        "instance/a", InstanceUpdated(endpoint="http://a:11435", config=DockerConfig(image="x"))
    )

    await run(store, storage, HUBP)

    [a] = await reader.instances(HUB)
    assert (a.id, a.name, a.endpoint, a.status) == ("a", "a", "http://a:11435", S.UNKNOWN)
    assert a.metadata == {"zone": "eu", "weights": [1, 2]}
    assert (a.tags, a.capabilities) == (frozenset({"gpu"}), frozenset({"llama3"}))
    assert a.config == DockerConfig(image="x")
    assert a.created_at == CREATED and a.updated_at > a.registered_at
    assert (a.health_checks_failed, a.last_check_passed, a.incarnation) == (0, True, 1)
    assert a.last_health_check is not None
    assert await kinds(reader) == []
    assert await stored_rows(storage, HUBP) == await folded_rows(store, HUBP)


async def test_health_moves_status_by_the_thresholds(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    await script.started(max_failures=3)
    await script.healthy("a")
    await script.check("a", False)  # the first failure changes nothing
    await script.check("a", False)
    await script.change("a", S.HEALTHY, S.DEGRADED)
    await script.check("a", False)
    await script.change("a", S.DEGRADED, S.UNHEALTHY)

    await run(store, storage, HUBP)

    [a] = await reader.instances(HUB)
    assert (a.status, a.health_checks_failed, a.last_check_passed, a.is_available) == (
        S.UNHEALTHY,
        3,
        False,
        False,
    )
    assert await kinds(reader) == []


async def test_broken_invariants_are_recorded_and_folding_goes_on(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    await script.started(max_failures=3)
    await script.check("ghost", True)  # never registered
    await script.register("a")
    await script.change("a", S.STARTING, S.HEALTHY)  # wrong from, and no passing check
    await script.check("a", False)
    await script.change("a", S.HEALTHY, S.UNHEALTHY)  # one failure is not three
    await script.check("a", False, failures=7)  # the count jumped

    await run(store, storage, HUBP)

    assert await kinds(reader) == [
        "event_for_unregistered_instance",
        "healthy_without_passing_check",
        "transition_from_mismatch",
        "transition_below_threshold",
        "failure_count_inconsistent",
    ]
    [a] = await reader.instances(HUB)
    assert (a.status, a.health_checks_failed) == (S.UNHEALTHY, 7)  # the log is what the hub did
    [meta] = (await stored_rows(storage, HUBP))["meta"].values()
    assert sum(meta.anomaly_counts.values()) == 5
    assert await stored_rows(storage, HUBP) == await folded_rows(store, HUBP)


async def test_reregistering_starts_a_new_incarnation(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    await script.healthy("a")
    await script.deregister("a")
    await script.check("a", True)  # a removed instance is never checked
    await run(store, storage, HUBP)

    assert await reader.instances(HUB) == []
    [gone] = await reader.instances(HUB, include_removed=True)
    assert (gone.registered, gone.status, gone.incarnation) == (False, S.STOPPED, 1)
    assert gone.deregistered_at is not None

    await script.register("a")
    await run(store, storage, HUBP)
    [again] = await reader.instances(HUB)
    assert (again.registered, again.status, again.incarnation, again.deregistered_at) == (
        True,
        S.UNKNOWN,
        2,
        None,
    )
    assert await kinds(reader) == ["event_for_unregistered_instance"]


async def test_a_recovered_instance_is_not_healthy_until_a_check_passes(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    await script.healthy("a")
    for _ in range(3):
        await script.check("a", False)
    await script.change("a", S.HEALTHY, S.UNHEALTHY)
    await script.append("instance/a", RecoveryFailed(error="port busy"))
    await script.append("instance/a", InstanceRecovered(config=DockerConfig(container_id="c2")))
    await script.change("a", S.UNHEALTHY, S.HEALTHY)  # too early
    await script.check("a", True)
    await script.change("a", S.HEALTHY, S.HEALTHY, reason="confirmed")

    await run(store, storage, HUBP)

    [a] = await reader.instances(HUB)
    assert (a.recoveries, a.recovery_failures, a.config) == (1, 1, DockerConfig(container_id="c2"))
    assert (a.status, a.health_checks_failed, a.last_check_passed) == (S.HEALTHY, 0, True)
    assert await kinds(reader) == ["healthy_without_passing_check"]


async def test_metrics_replace_whole_and_feed_the_summary(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    now = await store.now()
    await script.healthy("a")
    await script.healthy("b")
    await script.register("c")  # not available: left out of the load figures
    await script.sample("a", now, requests=10, errors=1, cpu_percent=50.0, active_connections=2)
    await script.sample("a", now, requests=20, errors=2, cpu_percent=30.0)
    await script.sample("b", now, requests=20, errors=0, cpu_percent=10.0, queued_requests=4)
    await script.sample("c", now, requests=10, errors=2, cpu_percent=90.0)
    await script.sample("nobody", now)
    await script.grant("a", "node-1", capacity=4)
    await script.grant("a", "node-2", capacity=4)

    await run(store, storage, HUBP)

    a = next(i for i in await reader.instances(HUB) if i.id == "a")
    assert (a.metrics.request_count, a.metrics.cpu_percent, a.metrics.active_connections) == (
        20,
        30.0,
        0,
    )
    summary = await reader.summary(HUB)
    assert summary is not None
    assert (summary.registered, summary.available, summary.by_status) == (
        3,
        2,
        {"healthy": 2, "unknown": 1},
    )
    assert summary.availability == 2 / 3
    assert (summary.cpu_percent, summary.queued_requests, summary.active_connections) == (
        20.0,
        4,
        0,
    )
    assert (summary.request_count, summary.error_count, summary.error_rate) == (50, 4, 8.0)
    assert (summary.lease_holders, summary.lease_capacity, summary.lease_utilisation) == (2, 4, 0.5)
    assert await kinds(reader) == ["event_for_unregistered_instance"]
    assert await stored_rows(storage, HUBP) == await folded_rows(store, HUBP)


async def test_an_instance_is_found_by_id_in_any_hub(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    await Script(store, "pool-1").register("a")
    await Script(store, "pool-2").register("b")
    await Script(store, "pool-2").deregister("b")
    for hub in ("pool-1", "pool-2"):
        await run(store, storage, HUBP, hub)

    found = await reader.instance("a")
    assert found is not None and (found[0], found[1].id) == ("pool-1", "a")
    assert await reader.instance("b") is None  # deregistered
    assert await reader.instance("zzz") is None
