"""The hub's own stream in the hub projection: what HubStarted, HubStopped
and ScalingAdvised leave in ``meta.hub``, field by field, and that a
restart keeps the last advice."""

from __future__ import annotations

from eventstore import HubStarted, HubStopped, ResourceType
from eventstore.events import ScalingAdvised
from projections import HubInfo
from projections.hub.state import ScalingAdvice
from tests.projections.handmade import Log, at


def started(**fields: object) -> HubStarted:
    return HubStarted(
        resource_type=ResourceType.DOCKER,
        node_id="node-7",
        health_check_interval=12.5,
        max_health_failures=5,
        metrics_interval=7.5,
        auto_recovery=False,
        settings={"image": "ollama/ollama", "replicas": 2},
        **fields,
    )


ADVISED = ScalingAdvised(
    action="scale_up",
    current_instances=3,
    suggested_instances=5,
    average_load=0.91,
    reason="p95 load 1.2 ≥ 0.8",
)
ADVICE_AT_20 = ScalingAdvice(
    action="scale_up",
    current_instances=3,
    suggested_instances=5,
    average_load=0.91,
    reason="p95 load 1.2 ≥ 0.8",
    advised_at=at(20),
)


def test_a_started_hub_keeps_every_setting_of_its_start() -> None:
    log = Log()
    log.add(started(), 10, "hub")
    state = log.state()
    assert state.meta.quarantined == 0
    assert state.meta.hub == HubInfo(
        running=True,
        node_id="node-7",
        resource_type=ResourceType.DOCKER,
        health_check_interval=12.5,
        max_health_failures=5,
        metrics_interval=7.5,
        auto_recovery=False,
        settings={"image": "ollama/ollama", "replicas": 2},
        started_at=at(10),
    )


def test_a_stopped_hub_keeps_its_settings_and_says_when_and_why() -> None:
    log = Log()
    log.add(started(), 10, "hub")
    log.add(HubStopped(node_id="node-7", reason="maintenance"), 30, "hub")
    info = log.state().meta.hub
    assert info == HubInfo(
        running=False,
        node_id="node-7",
        resource_type=ResourceType.DOCKER,
        health_check_interval=12.5,
        max_health_failures=5,
        metrics_interval=7.5,
        auto_recovery=False,
        settings={"image": "ollama/ollama", "replicas": 2},
        started_at=at(10),
        stopped_at=at(30),
        stop_reason="maintenance",
    )


def test_advice_is_kept_whole_with_the_time_it_was_recorded() -> None:
    log = Log()
    log.add(started(), 10, "hub")
    log.add(ADVISED, 20, "hub")
    info = log.state().meta.hub
    assert info.scaling_advice == ADVICE_AT_20
    assert (info.running, info.started_at, info.node_id) == (True, at(10), "node-7")


def test_a_restart_starts_afresh_but_keeps_the_last_advice() -> None:
    log = Log()
    log.add(started(), 10, "hub")
    log.add(ADVISED, 20, "hub")
    log.add(HubStopped(reason="upgrade"), 30, "hub")
    log.add(HubStarted(resource_type=ResourceType.OLLAMA), 40, "hub")
    assert log.state().meta.hub == HubInfo(
        running=True,
        resource_type=ResourceType.OLLAMA,
        started_at=at(40),
        scaling_advice=ADVICE_AT_20,
    )


def test_a_later_advice_replaces_the_earlier() -> None:
    log = Log()
    log.add(ADVISED, 20, "hub")
    hold = ScalingAdvised(action="hold", current_instances=5, suggested_instances=5)
    log.add(hold, 25, "hub")
    assert log.state().meta.hub.scaling_advice == ScalingAdvice(
        action="hold",
        current_instances=5,
        suggested_instances=5,
        average_load=0.0,
        reason="",
        advised_at=at(25),
    )


def test_a_hub_event_is_folded_through_the_projection_without_quarantine() -> None:
    log = Log()
    log.add(HubStopped(reason="drain"), 3, "hub")
    state = log.state()
    assert (state.meta.quarantined, state.meta.position) == (0, 1)
    assert (state.meta.hub.stopped_at, state.meta.hub.stop_reason) == (at(3), "drain")
