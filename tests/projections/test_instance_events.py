"""An instance's life in the hub projection, from hand-made events: what
each event leaves in the instance row (its ``updated_at`` included), what a
second registration or an event for an unknown instance records, and the
summary's figures over registered and removed instances."""

from __future__ import annotations

from eventstore import (
    HealthChecked,
    InstanceDeregistered,
    InstanceRegistered,
    Metrics,
    MetricsSampled,
    OllamaConfig,
    ResourceStatus,
    ResourceType,
)
from eventstore.events import InstanceRecovered, InstanceUpdated, MetricsRolledUp, RecoveryFailed
from projections import HubState, InstanceState
from projections import anomalies as kinds
from tests.projections.handmade import Log, at

A = "instance/a"
CONFIG = OllamaConfig(host="a", models=["llama3"])


def registered(name: str = "a", **fields: object) -> InstanceRegistered:
    return InstanceRegistered(
        name=name,
        resource_type=ResourceType.OLLAMA,
        endpoint=f"http://{name}:11434",
        config=CONFIG,
        **fields,
    )


def anomalies(state: HubState) -> list[tuple[str, str]]:
    return [(a.kind, a.detail) for a in state.anomalies.values()]


def instance_after(*events: tuple[object, float]) -> InstanceState:
    log = Log()
    log.add(registered(), 0, A)
    for event, seconds in events:
        log.add(event, seconds, A)  # type: ignore[arg-type]
    return log.state().instances["a"]


def test_a_second_registration_records_the_incarnation_that_never_ended() -> None:
    log = Log()
    log.add(registered(), 0, A)
    log.add(registered(), 5, A)
    state = log.state()
    assert anomalies(state) == [(kinds.REGISTERED_TWICE, "incarnation 1 never ended")]
    instance = state.instances["a"]
    assert (instance.incarnation, instance.registered_at, instance.updated_at) == (2, at(5), at(5))


def test_an_event_for_an_instance_never_registered_is_recorded_by_name() -> None:
    log = Log()
    log.add(RecoveryFailed(error="boom"), 1, "instance/ghost")
    state = log.state()
    assert anomalies(state) == [(kinds.UNREGISTERED, "instance 'ghost' is not registered")]
    assert state.instances == {}


def test_an_update_changes_only_what_it_names_and_the_update_time() -> None:
    before = instance_after()
    after = instance_after((InstanceUpdated(endpoint="http://a:8080"), 7))
    assert after.endpoint == "http://a:8080"
    assert after.updated_at == at(7)
    assert after.name == before.name == "a"
    assert after.config == before.config == CONFIG


def test_a_recovery_keeps_the_config_it_does_not_name_and_needs_a_new_passing_check() -> None:
    passed = HealthChecked(ok=True, checked_at=at(2), consecutive_failures=0)
    assert instance_after((passed, 2)).last_check_passed is True
    after = instance_after((passed, 2), (InstanceRecovered(), 9))
    assert (after.config, after.recoveries, after.last_check_passed) == (CONFIG, 1, False)
    assert after.updated_at == at(9)


def test_a_recovery_with_a_config_replaces_it_and_none_clears_it() -> None:
    other = OllamaConfig(host="a2", models=["mistral"])
    assert instance_after((InstanceRecovered(config=other), 9)).config == other
    assert instance_after((InstanceRecovered(config=None), 9)).config is None


def test_a_failed_recovery_is_counted_and_moves_the_update_time() -> None:
    after = instance_after((RecoveryFailed(error="no gpu"), 4), (RecoveryFailed(), 6))
    assert (after.recovery_failures, after.updated_at) == (2, at(6))


def test_a_deregistered_instance_is_stopped_and_kept() -> None:
    after = instance_after((InstanceDeregistered(reason="scaled down"), 12))
    assert after.registered is False
    assert after.status is ResourceStatus.STOPPED
    assert (after.deregistered_at, after.updated_at, after.incarnation) == (at(12), at(12), 1)


def test_the_summary_counts_removed_instances_and_reads_the_log_s_clock() -> None:
    log = Log()
    for name in ("a", "b", "c"):
        log.add(registered(name), 0, f"instance/{name}")
    log.add(InstanceDeregistered(), 3, "instance/c")
    summary = log.state().summary
    assert (summary.registered, summary.removed, summary.as_of) == (2, 1, at(3))


def test_a_summary_with_nothing_available_reports_zeros_not_ones() -> None:
    log = Log()
    log.add(registered(), 0, A)  # registered, status unknown: not available
    summary = log.state().summary
    assert (summary.available, summary.availability) == (0, 0.0)
    assert (summary.cpu_percent, summary.memory_percent, summary.error_rate) == (0.0, 0.0, 0.0)
    assert (summary.lease_capacity, summary.lease_utilisation) == (0, 0.0)


def test_the_summary_averages_memory_over_available_instances() -> None:
    log = Log()
    for name, memory in (("a", 20.0), ("b", 60.0)):
        log.add(registered(name, status=ResourceStatus.DEGRADED), 0, f"instance/{name}")
        sample = MetricsSampled(metrics=Metrics(memory_percent=memory), sampled_at=at(1))
        log.add(sample, 1, f"metrics/{name}")
    assert log.state().summary.memory_percent == 40.0


def test_a_registration_keeps_every_field_gleitzeit_sends() -> None:
    metrics = Metrics(cpu_percent=12.0, request_count=40)
    log = Log()
    event = registered(
        status=ResourceStatus.DEGRADED,
        metrics=metrics,
        health_checks_failed=2,
        last_health_check=at(-30),
        created_at=at(-3600),
        updated_at=at(-60),
    )
    log.add(event, 0, A)
    instance = log.state().instances["a"]
    assert (instance.metrics, instance.health_checks_failed) == (metrics, 2)
    assert (instance.last_health_check, instance.created_at, instance.updated_at) == (
        at(-30),
        at(-3600),
        at(-60),
    )
    assert (instance.status, instance.registered_at) == (ResourceStatus.DEGRADED, at(0))


def test_a_registration_as_healthy_is_recorded_and_kept_healthy() -> None:
    log = Log()
    log.add(registered(status=ResourceStatus.HEALTHY), 0, A)
    state = log.state()
    assert anomalies(state) == [
        (kinds.HEALTHY_WITHOUT_CHECK, "registered as healthy before any check")
    ]
    assert state.instances["a"].status is ResourceStatus.HEALTHY


def test_a_rollup_on_a_metrics_stream_leaves_the_instance_s_metrics_alone() -> None:
    log = Log()
    log.add(registered(), 0, A)
    sample = Metrics(cpu_percent=30.0)
    log.add(MetricsSampled(metrics=sample, sampled_at=at(1)), 1, "metrics/a")
    log.add(MetricsRolledUp(resolution_s=60, through_version=1, buckets=()), 2, "metrics/a")
    state = log.state()
    assert state.instances["a"].metrics == sample
    assert (state.meta.quarantined, anomalies(state)) == (0, [])
