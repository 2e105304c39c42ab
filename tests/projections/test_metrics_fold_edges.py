"""The metrics projection at its edges, folded from hand-made events: the
series head after each kind of event, times exactly at a minute's or a
cut's edge, the hour index retention cuts by, what a MetricsRolledUp sets,
and every anomaly's and quarantine's words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from msgspec.structs import replace

from eventstore import (
    InstanceDeregistered,
    InstanceRegistered,
    Metrics,
    MetricsRolledUp,
    MetricsSampled,
    ResourceType,
    RollupBucket,
)
from eventstore.envelope import RecordedEvent
from projections import MetricsProjection, RetentionPolicy, keys
from projections.metrics import MetricHistory, MetricsMeta, SeriesHead
from tests.projections import handmade
from tests.projections.handmade import T0, at

HOUR = timedelta(hours=1)
SERIES = "metrics/a"


class Log(handmade.Log):
    """One instance ``a``: its registrations, samples and rollups."""

    def register(self, seconds: float) -> RecordedEvent:
        event = InstanceRegistered(
            name="a", resource_type=ResourceType.OLLAMA, endpoint="http://a:11434"
        )
        return self.add(event, seconds, "instance/a")

    def deregister(self, seconds: float) -> RecordedEvent:
        return self.add(InstanceDeregistered(reason="scaled down"), seconds, "instance/a")

    def sample(
        self,
        sampled: float,
        requests: int = 0,
        errors: int = 0,
        *,
        recorded: float | None = None,
        stream: str = SERIES,
    ) -> RecordedEvent:
        """A sample taken ``sampled`` s after T0, recorded then unless told."""
        metrics = Metrics(request_count=requests, error_count=errors, last_updated=at(sampled))
        event = MetricsSampled(metrics=metrics, sampled_at=at(sampled))
        return self.add(event, sampled if recorded is None else recorded, stream)

    def rolled_up(
        self, seconds: float, resolution: int, *buckets: RollupBucket, **kw: object
    ) -> RecordedEvent:
        kw.setdefault("through_version", 0)
        event = MetricsRolledUp(resolution_s=resolution, buckets=buckets, **kw)
        return self.add(event, seconds, SERIES)


def bucket(seconds: float, count: int = 1) -> RollupBucket:
    return RollupBucket(start=at(seconds), count=count, stats={}, p95_response_time_ms=0.0)


def anomalies(state: MetricHistory) -> list[tuple[str, str]]:
    return [(a.kind, a.detail) for a in state.anomalies.values()]


def row_key(seconds: float) -> str:
    return keys.join("a", keys.ts(at(seconds)))


# -- fingerprint ----------------------------------------------------------------


def test_the_fingerprint_names_the_policy_and_a_model_without_raw_samples() -> None:
    policy = RetentionPolicy(raw_s=3600, minute_s=7200, hour_s=86400)
    assert MetricsProjection(policy).fingerprint("pool") == (
        "metrics:v1:raw=3600s,1m=7200s,1h=86400s"
    )
    assert MetricsProjection(policy, raw_samples=False).fingerprint("pool") == (
        "metrics:v1:raw=3600s,1m=7200s,1h=86400s:no-samples"
    )


# -- registrations --------------------------------------------------------------


def test_each_registration_starts_a_new_incarnation_of_the_series() -> None:
    log = Log()
    log.register(0)
    log.sample(10, requests=5)
    log.deregister(20)
    log.register(30)
    log.sample(40, requests=1)
    state = log.state(MetricsProjection())
    head = state.series["a"]
    assert (head.registered, head.incarnation, head.counters) == (True, 2, (1, 0))
    assert [(r.incarnation, r.version) for r in state.samples.values()] == [(1, 1), (2, 2)]
    assert (state.anomalies, state.quarantine) == ({}, {})


def test_a_sample_after_the_deregistration_is_for_an_unregistered_instance() -> None:
    log = Log()
    log.register(0)
    log.deregister(10)
    log.sample(20)
    state = log.state(MetricsProjection())
    assert (state.series["a"].registered, state.series["a"].incarnation) == (False, 1)
    assert anomalies(state) == [
        ("event_for_unregistered_instance", "metrics for unregistered instance 'a'")
    ]
    assert state.quarantine == {}


def test_a_sample_on_a_metrics_stream_without_an_id_is_of_the_series_with_the_empty_id() -> None:
    log = Log()
    log.sample(0, stream="metrics")
    state = log.state(MetricsProjection())
    assert list(state.series) == [""]
    assert anomalies(state) == [
        ("event_for_unregistered_instance", "metrics for unregistered instance ''")
    ]


# -- samples ----------------------------------------------------------------------


def test_a_series_head_after_samples_in_two_minutes_of_one_hour() -> None:
    log = Log()
    log.register(0)
    log.sample(0, requests=1)
    log.sample(30, requests=3)
    log.sample(60, requests=6)
    head = log.state(MetricsProjection()).series["a"]
    assert replace(head, minute=None, hour=None) == SeriesHead(
        instance_id="a",
        registered=True,
        incarnation=1,
        samples=3,
        last_version=3,
        last_sampled_at=at(60),
        counters=(6, 0),
        hour_counters=(6, 0),
        hours=((T0, 1),),  # one entry for the hour, not one per minute
    )
    assert head.minute is not None and head.hour is not None
    assert (head.minute.start, len(head.minute.values), head.minute.request_delta) == (at(60), 1, 3)
    assert (head.hour.start, head.hour.count, head.hour.request_delta) == (T0, 2, 2)


def test_a_sample_at_the_end_of_the_clocks_minute_opens_the_next_minute() -> None:
    log = Log()
    log.register(0)
    log.sample(60, recorded=30)  # taken ahead of the log's clock, at 12:01:00 exactly
    minute = log.state(MetricsProjection()).series["a"].minute
    assert minute is not None and minute.start == at(60)


def test_a_counter_that_stays_the_same_counts_nothing_and_did_not_decrease() -> None:
    log = Log()
    log.register(0)
    for seconds in (0, 10, 20):
        log.sample(seconds, requests=100, errors=4)
    state = log.state(MetricsProjection())
    minute = state.series["a"].minute
    assert minute is not None and (minute.request_delta, minute.error_delta) == (0, 0)
    assert state.anomalies == {}


def test_broken_counters_and_a_time_that_did_not_increase_are_flagged_word_for_word() -> None:
    log = Log()
    log.register(0)
    log.sample(30, requests=10, errors=2)
    log.sample(40, requests=8, errors=9)
    log.sample(40, requests=9, errors=9)
    state = log.state(MetricsProjection())
    assert anomalies(state) == [
        ("errors_exceed_requests", "error_count 9 > request_count 8"),
        ("counter_decreased", "(8, 9) after (10, 2) (requests, errors)"),
        (
            "sample_time_not_increasing",
            (
                "sampled at 2026-11-01 12:00:40+00:00, not after 2026-11-01 12:00:40+00:00:"
                " left out of rollups"
            ),
        ),
    ]
    # the sample left out of rollups still counts, and is the head's last version
    head = state.series["a"]
    assert (head.samples, head.last_version, head.counters) == (3, 3, (8, 9))
    assert head.minute is not None and len(head.minute.values) == 2
    assert len(state.samples) == 3


# -- expiry by the log's clock --------------------------------------------------


def test_the_clock_reaching_the_next_minute_exactly_runs_its_expiry_pass() -> None:
    log = Log()
    log.register(0)
    log.sample(-30, recorded=0)  # kept at 12:00: the raw cut is 11:59
    log.sample(30)
    log.sample(60)  # the clock is 12:01:00: the raw cut is 12:00
    state = log.state(MetricsProjection(RetentionPolicy(raw_s=60)))
    assert state.meta.expired_at == at(60)
    assert [row.sampled_at for row in state.samples.values()] == [at(30), at(60)]


def test_a_step_without_a_new_expiry_pass_prunes_nothing() -> None:
    log = Log()
    log.register(0)
    log.sample(0)
    projection = MetricsProjection()
    state = log.state(projection)
    assert state.meta.expired_at == T0
    assert projection.prunes(state, state) == []


def test_tick_refuses_a_meta_without_the_logs_clock() -> None:
    with pytest.raises(AssertionError):
        MetricsProjection().tick(MetricHistory(), MetricsMeta())


def test_open_buckets_starting_exactly_at_the_cut_are_derived() -> None:
    log = Log()
    log.register(0)
    log.sample(-60, recorded=0)  # the clock is 12:00: the cuts are 11:59 and 11:00
    projection = MetricsProjection(RetentionPolicy(minute_s=60, hour_s=3600))
    head = log.state(projection).series["a"]
    open_buckets = head.open_buckets()
    assert projection.derived(log.state(projection)) == {
        "rollups_1m": {row_key(-60): open_buckets["rollups_1m"]},
        "rollups_1h": {row_key(-3600): open_buckets["rollups_1h"]},
    }
