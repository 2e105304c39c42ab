"""restore() per status: a deregistered instance never comes back, a stopped
one is not resurrected, every other one is unknown until a check passes —
kept unhealthy or dropped (on_failure) when it fails — and each outcome is
an event in the log."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from adapters.hub import HubPersistenceAdapter, restore
from eventstore import HealthChanged, InstanceDeregistered, ResourceStatus, streams
from tests.adapters.hub.instances import Instance, Status

pytest.importorskip("gleitzeit.hub", reason="restore builds Gleitzeit objects: the gleitzeit extra")

pytestmark = pytest.mark.anyio
HUB = "ollama-pool"


async def a_hub_before_the_crash(adapter: HubPersistenceAdapter) -> None:
    for iid in ("passes", "fails", "raises", "gone", "stopped"):
        await adapter.save_instance(HUB, Instance(id=iid, endpoint=f"http://{iid}:11434"))
    await adapter.delete_instance("gone")
    await adapter.save_instance(HUB, Instance(id="stopped", status=Status.STOPPED))


async def check(instance: Any) -> bool:
    if instance.id == "raises":
        raise ConnectionError("refused")
    return instance.id == "passes"


async def last_change(adapter: HubPersistenceAdapter, iid: str) -> Any:
    store = await adapter.session.store()
    events = [e.event async for e in store.read_stream(HUB, streams.instance(iid))]
    return [e for e in events if isinstance(e, HealthChanged | InstanceDeregistered)][-1]


@pytest.mark.parametrize("on_failure", ["unhealthy", "deregister"])
async def test_restore_verifies_each_instance_and_never_resurrects(
    adapter: HubPersistenceAdapter, on_failure: str
) -> None:
    await a_hub_before_the_crash(adapter)
    hub = SimpleNamespace(hub_id=HUB, instances={})

    report = await restore(hub, adapter, health_check=check, on_failure=on_failure)  # type: ignore[arg-type]

    assert report.healthy == ["passes"]
    assert sorted(report.skipped) == ["stopped"]
    assert "gone" not in hub.instances and "stopped" not in hub.instances
    assert hub.instances["passes"].status.value == "healthy"
    assert hub.instances["passes"].config.max_concurrent == 2  # config kept
    failed = sorted(report.unhealthy if on_failure == "unhealthy" else report.deregistered)
    assert failed == ["fails", "raises"]
    for iid in failed:
        change = await last_change(adapter, iid)
        if on_failure == "unhealthy":
            assert hub.instances[iid].status.value == "unhealthy"
            assert isinstance(change, HealthChanged)
            assert change.to_status is ResourceStatus.UNHEALTHY
        else:
            assert iid not in hub.instances
            assert isinstance(change, InstanceDeregistered)
            assert await adapter.load_instance(iid) is None
    assert (await last_change(adapter, "passes")).to_status is ResourceStatus.HEALTHY


async def test_an_instance_the_hub_holds_already_is_left_alone(
    adapter: HubPersistenceAdapter,
) -> None:
    await a_hub_before_the_crash(adapter)
    mine = object()
    hub = SimpleNamespace(hub_id=HUB, instances={"passes": mine})

    report = await restore(hub, adapter, health_check=check)

    assert hub.instances["passes"] is mine
    assert "passes" in report.skipped


async def test_a_bad_on_failure_is_refused(adapter: HubPersistenceAdapter) -> None:
    hub = SimpleNamespace(hub_id=HUB, instances={})
    with pytest.raises(ValueError, match="on_failure"):
        await restore(hub, adapter, health_check=check, on_failure="ignore")  # type: ignore[arg-type]
