"""The metrics projection's hour index and MetricsRolledUp events, folded
from hand-made events: which hours retention may still cut at, where the
open buckets start, and which carried buckets a fold sets, keeps out or
flags, word for word."""

from __future__ import annotations

from projections import MetricsProjection, RetentionPolicy
from projections.metrics import SeriesHead, _indexed
from projections.rollup import Minute
from tests.projections.handmade import T0, at
from tests.projections.test_metrics_fold_edges import HOUR, Log, anomalies, bucket, row_key

# -- the hour index ---------------------------------------------------------------


def test_a_new_hour_drops_the_hours_before_the_one_before_the_raw_cut() -> None:
    hours = ((T0 - 2 * HOUR, 1), (T0 - HOUR, 5))
    # the raw cut is 12:30: retention may still cut at 11:00, not at 10:00
    assert _indexed(hours, None, T0, 9, at(1800)) == (((T0 - HOUR, 5), (T0, 9)), T0 - HOUR)


def test_a_new_hour_keeps_an_index_that_starts_at_the_horizon_as_it_is() -> None:
    assert _indexed(((T0 - HOUR, 5),), None, T0, 9, at(1800)) == (
        ((T0 - HOUR, 5), (T0, 9)),
        None,
    )


def test_the_hour_index_stays_complete_from_where_it_was_cut() -> None:
    log = Log()
    log.register(-7200)
    for hour in (-2, -1, 0, 1):
        log.sample(3600 * hour)  # each recorded when taken
    log.sample(7200, recorded=3630)  # a new hour, while the raw cut is still 12:00
    head = log.state(MetricsProjection(RetentionPolicy(raw_s=3600))).series["a"]
    assert head.hours == (
        (T0 - HOUR, 2),
        (T0, 3),
        (T0 + HOUR, 4),
        (T0 + 2 * HOUR, 5),
    )
    assert head.hours_from == T0 - HOUR
    assert head.first_version_from(T0 - 2 * HOUR) == (T0 - HOUR, 2)


# -- the open buckets -------------------------------------------------------------


def test_the_open_buckets_start_at_the_open_minute_and_at_its_hour() -> None:
    head = SeriesHead(instance_id="a", minute=Minute(start=at(300), values=(), custom=()))
    assert head.open_start("rollups_1m") == at(300)
    assert head.open_start("rollups_1h") == T0


# -- MetricsRolledUp --------------------------------------------------------------


def test_a_minute_bucket_older_than_the_open_minute_is_set_though_in_the_open_hour() -> None:
    log = Log()
    log.register(0)
    log.sample(300)  # the open minute is 12:05
    log.rolled_up(310, 60, bucket(0), bucket(300))
    state = log.state(MetricsProjection())
    assert state.rollups_1m == {row_key(0): bucket(0)}
    assert anomalies(state) == [
        (
            "rollup_overlaps_open_bucket",
            (
                "bucket 2026-11-01 12:05:00+00:00 of rollups_1m is not older than the open one"
                " (2026-11-01 12:05:00+00:00)"
            ),
        )
    ]


def test_an_hour_bucket_of_the_open_hour_overlaps_it() -> None:
    log = Log()
    log.register(0)
    log.sample(300)
    log.rolled_up(310, 3600, bucket(-3600), bucket(0))
    state = log.state(MetricsProjection())
    assert state.rollups_1h == {row_key(-3600): bucket(-3600)}
    assert [kind for kind, _ in anomalies(state)] == ["rollup_overlaps_open_bucket"]


def test_a_carried_bucket_exactly_at_the_cut_is_set_and_an_older_one_is_not() -> None:
    log = Log()
    log.rolled_up(0, 60, bucket(-3660), bucket(-3600))  # the cut is 11:00
    state = log.state(MetricsProjection(RetentionPolicy(minute_s=3600)))
    assert state.rollups_1m == {row_key(-3600): bucket(-3600)}


def test_rolled_until_only_moves_later_and_through_version_only_up() -> None:
    log = Log()
    log.rolled_up(0, 3600, through_version=7, until=T0 - HOUR)
    log.rolled_up(10, 3600, through_version=3)
    log.rolled_up(20, 3600, through_version=5, until=T0 - 2 * HOUR)
    state = log.state(MetricsProjection())
    head = state.series["a"]
    assert (head.rolled_through, head.rolled_until) == (7, T0 - HOUR)
    assert state.quarantine == {}


def test_a_rollup_of_another_resolution_is_quarantined_with_the_reason() -> None:
    log = Log()
    log.rolled_up(0, 30, bucket(0))
    state = log.state(MetricsProjection())
    assert [q.error for q in state.quarantine.values()] == [
        "ValueError: resolution_s 30 is neither 60 nor 3600"
    ]
