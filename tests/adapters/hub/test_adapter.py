"""The contract of the 14 persistence methods, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest

from adapters.hub import HubPersistenceAdapter, UnknownInstance, get_instance
from eventstore import EventStoreError, MetricsSampled, streams
from eventstore import Metrics as Metric
from tests.adapters.hub.instances import DockerConfig, Instance, Metrics, Status

pytestmark = pytest.mark.anyio
HUB = "ollama-pool"
LIMIT = 30


async def types(adapter: HubPersistenceAdapter, instance_id: str, hub: str = HUB) -> list[str]:
    store = await adapter.session.store()
    return [e.type async for e in store.read_stream(hub, streams.instance(instance_id))]


def test_an_adapter_is_always_true() -> None:
    assert bool(HubPersistenceAdapter("memory://"))


async def test_works_before_and_after_initialize_and_twice(
    adapter: HubPersistenceAdapter,
) -> None:
    with anyio.fail_after(LIMIT):
        await adapter.save_instance(HUB, Instance("a"))  # opens lazily
        await adapter.initialize()
        await adapter.initialize()
        assert (await adapter.load_instance("a")) is not None
        await adapter.shutdown()
        await adapter.shutdown()
        assert [i["id"] for i in await adapter.list_instances(HUB)] == ["a"]  # reopens


async def test_save_appends_only_the_difference(adapter: HubPersistenceAdapter) -> None:
    with anyio.fail_after(LIMIT):
        instance = Instance("a")
        await adapter.save_instance(HUB, instance)
        await adapter.save_instance(HUB, instance)  # nothing changed: nothing appended
        first = await types(adapter, "a")
        instance.tags.add("gpu")
        instance.status, instance.health_checks_failed = Status.DEGRADED, 2
        await adapter.save_instance(HUB, instance)

        assert first == ["InstanceRegistered", "HealthChecked", "HealthChanged"]
        assert (await types(adapter, "a"))[3:] == [
            "InstanceUpdated",
            "HealthChecked",
            "HealthChecked",
            "HealthChanged",
        ]


async def test_save_copies_at_call_time(adapter: HubPersistenceAdapter) -> None:
    with anyio.fail_after(LIMIT):
        instance = Instance("a", metadata={"zone": "a"})
        await adapter.save_instance(HUB, instance)
        instance.metadata["zone"] = "b"  # the hub keeps mutating its object

        loaded = await adapter.load_instance("a")
        assert loaded is not None and loaded["metadata"] == {"zone": "a"}


async def test_load_returns_to_dict_shape_plus_config(adapter: HubPersistenceAdapter) -> None:
    with anyio.fail_after(LIMIT):
        await adapter.save_instance(HUB, Instance("a"))
        docker = Instance("d", config=DockerConfig(container_id="c0ffee"), tags=set())
        docker.type = docker.type.DOCKER
        await adapter.save_instance(HUB, docker)

        a = await adapter.load_instance("a")
        d = await adapter.load_instance("d")
        assert a is not None and d is not None
        assert a["type"] == "ollama" and a["status"] == "healthy" and a["tags"] == ["ollama"]
        assert a["config"]["max_concurrent"] == 2 and a["config"]["models"] == ["llama3"]
        assert a["created_at"] == "2024-05-01T12:00:00"  # naive UTC, as Gleitzeit's to_dict()
        assert d["config"]["container_id"] == "c0ffee"
        assert await adapter.load_instance("nope") is None


async def test_a_plain_dict_is_accepted(adapter: HubPersistenceAdapter) -> None:
    with anyio.fail_after(LIMIT):
        record = {
            "id": "p",
            "name": "P",
            "type": "ollama",
            "endpoint": "http://p",
            "status": "unknown",
            "tags": ["x"],
            "config": {"port": 11500},
        }
        await adapter.save_instance(HUB, record)

        loaded = await adapter.load_instance("p")
        assert loaded is not None and loaded["config"]["port"] == 11500


async def test_delete_deregisters_and_a_new_save_is_a_new_incarnation(
    adapter: HubPersistenceAdapter,
) -> None:
    with anyio.fail_after(LIMIT):
        await adapter.save_instance(HUB, Instance("a"))
        await adapter.save_instance(HUB, Instance("b"))
        await adapter.delete_instance("a")
        await adapter.delete_instance("a")  # again: nothing more

        assert await adapter.load_instance("a") is None
        assert [i["id"] for i in await adapter.list_instances(HUB)] == ["b"]
        await adapter.save_instance(HUB, Instance("a"))
        events = await types(adapter, "a")
        assert events.count("InstanceRegistered") == 2
        assert events.count("InstanceDeregistered") == 1
        state = await adapter.instance_state("a")
        assert state is not None and state[1].incarnation == 2


async def test_metrics_are_stamped_at_the_call_and_read_back_in_order(
    adapter: HubPersistenceAdapter,
) -> None:
    with anyio.fail_after(LIMIT):
        await adapter.save_instance(HUB, Instance("a"))
        before = datetime.now(UTC).replace(tzinfo=None)
        for n in range(3):
            await adapter.save_metrics("a", Metrics(request_count=n))  # stale last_updated
        after = datetime.now(UTC).replace(tzinfo=None)

        history = await adapter.get_metrics_history("a", before, after)
        assert [h["request_count"] for h in history] == [0, 1, 2]
        assert all(before.isoformat() <= h["timestamp"] <= after.isoformat() for h in history)
        assert not any(h["rollup"] for h in history)
        assert await adapter.get_metrics_history("a", after + timedelta(seconds=1), after) == []


async def test_metrics_for_an_unknown_instance_are_refused(adapter: HubPersistenceAdapter) -> None:
    with anyio.fail_after(LIMIT), pytest.raises(UnknownInstance):
        await adapter.save_metrics("ghost", Metrics())


async def test_locks_count_up_to_the_instances_capacity(adapter: HubPersistenceAdapter) -> None:
    with anyio.fail_after(LIMIT):
        await adapter.save_instance(HUB, Instance("a"))  # max_concurrent=2
        assert await adapter.acquire_lock("a", "n1")
        assert await adapter.acquire_lock("a", "n2")
        assert not await adapter.acquire_lock("a", "n3")
        await adapter.release_lock("a", "n1")
        assert await adapter.acquire_lock("a", "n3")
        assert await adapter.get_lock_owner("a") == "n3"  # the newest lease


async def test_a_lock_on_any_resource_is_a_mutex(adapter: HubPersistenceAdapter) -> None:
    with anyio.fail_after(LIMIT):
        assert await adapter.acquire_lock("queue", "n1", timeout=30)
        assert not await adapter.acquire_lock("queue", "n2")
        assert await adapter.get_lock_owner("queue") == "n1"
        assert not await adapter.extend_lock("queue", "n2")  # owner-checked
        await adapter.release_lock("queue", "n2")  # not the holder: nothing
        assert await adapter.extend_lock("queue", "n1", timeout=60)
        await adapter.release_lock("queue", "n1")
        assert await adapter.get_lock_owner("queue") is None


async def test_get_instance_skips_full_instances_and_never_retries_one(
    adapter: HubPersistenceAdapter,
) -> None:
    with anyio.fail_after(LIMIT):
        for name in ("a", "b"):
            await adapter.save_instance(HUB, Instance(name))
        for owner in ("x", "y"):
            assert await adapter.acquire_lock("a", owner)  # a is full
        candidates = await adapter.list_instances(HUB)

        got = await get_instance(adapter, candidates, "me")
        assert got is not None and got["id"] == "b"
        assert await get_instance(adapter, candidates, "me", max_tries=1) is None


async def test_cleanup_removes_old_samples_and_history_answers_from_rollups(
    adapter: HubPersistenceAdapter,
) -> None:
    with anyio.fail_after(LIMIT):
        await adapter.save_instance(HUB, Instance("a"))
        store = await adapter.session.store()
        old = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=30)
        for n in range(3):  # samples from before the 24 h raw window
            sample = MetricsSampled(
                metrics=Metric(request_count=n), sampled_at=old + timedelta(seconds=n)
            )
            await store.append(HUB, streams.metrics("a"), [sample])
        await adapter.save_metrics("a", Metrics(request_count=9))
        now = datetime.now(UTC).replace(tzinfo=None)

        removed = await adapter.cleanup_old_data(now - timedelta(hours=1))
        history = await adapter.get_metrics_history("a", old - timedelta(hours=1), now)

        assert removed == 3
        assert [(h["rollup"], h["samples"]) for h in history] == [(True, 3), (False, 1)]
        assert history[0]["resolution_s"] == 60 and history[0]["request_count"] == 2
        assert history[1]["request_count"] == 9


async def test_utilization_reads_the_hub_summary(adapter: HubPersistenceAdapter) -> None:
    with anyio.fail_after(LIMIT):
        await adapter.save_instance(HUB, Instance("a"))
        await adapter.save_instance(HUB, Instance("b", status=Status.UNKNOWN))
        summary = await adapter.get_resource_utilization(HUB)

        assert summary["registered"] == 2 and summary["available"] == 1
        assert summary["by_status"] == {"healthy": 1, "unknown": 1}


async def test_bad_input_raises_a_hublog_error(adapter: HubPersistenceAdapter) -> None:
    with anyio.fail_after(LIMIT):
        with pytest.raises(EventStoreError):
            await adapter.save_instance(HUB, {"id": "x"})
        with pytest.raises(EventStoreError):
            await adapter.save_instance("bad{hub}", Instance("a"))
