"""Row keys and time buckets: exact strings and instants, whatever the input's
time zone, the machine's local zone, or the order keys were made in."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from projections import keys
from projections.errors import InvalidQuery
from projections.policy import RetentionPolicy, floor_to

PLUS_2 = timezone(timedelta(hours=2))
PLUS_5_45 = timezone(timedelta(hours=5, minutes=45))  # Nepal: not a whole hour


@pytest.fixture
def local_zone_plus_5_30(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone is UTC+05:30 (a POSIX TZ string: no tzdata
    needed), as on a server in India: UTC results must not depend on it."""
    monkeypatch.setenv("TZ", "IST-5:30")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def other_minute() -> None:
    """Make :func:`keys.ts` forget the minute it formatted last (a memo)."""
    keys.ts(datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC))


# keys.ts


def test_a_utc_time_is_formatted_to_the_microsecond() -> None:
    other_minute()
    assert keys.ts(datetime(2026, 11, 1, 12, 34, 56, 789, tzinfo=UTC)) == (
        "2026-11-01T12:34:56.000789Z"
    )


def test_a_time_in_another_zone_is_formatted_in_utc() -> None:
    other_minute()
    assert keys.ts(datetime(2026, 11, 1, 1, 30, 5, 42, tzinfo=PLUS_2)) == (
        "2026-10-31T23:30:05.000042Z"
    )


def test_a_time_in_another_zone_is_formatted_in_utc_whatever_the_local_zone(
    local_zone_plus_5_30: None,
) -> None:
    assert keys.ts(datetime(2026, 11, 1, 12, 0, 0, 1, tzinfo=PLUS_5_45)) == (
        "2026-11-01T06:15:00.000001Z"
    )


def test_consecutive_times_across_a_minute_change_get_their_own_minutes() -> None:
    # the memo of the last minute must span exactly [hh:mm:00, next minute)
    other_minute()
    expected = [
        "2026-11-01T12:00:30.500000Z",
        "2026-11-01T12:01:00.100000Z",
        "2026-11-01T12:00:59.999999Z",
        "2026-11-01T12:01:00.500000Z",
    ]
    times = [datetime.fromisoformat(e) for e in expected]
    assert [keys.ts(t) for t in times] == expected


def test_the_last_representable_minute_is_formatted() -> None:
    # its end (one minute later) is past datetime.max
    last = datetime.max.replace(tzinfo=UTC)
    assert keys.ts(last) == "9999-12-31T23:59:59.999999Z"
    assert keys.ts(last.replace(second=0, microsecond=0)) == "9999-12-31T23:59:00.000000Z"


def test_timestamps_sort_as_the_times_do() -> None:
    start = datetime(2026, 11, 1, 23, 59, 58, tzinfo=UTC)
    times = [start + timedelta(microseconds=250_001 * k) for k in range(12)]
    stamps = [keys.ts(t) for t in times]
    assert sorted(stamps) == stamps
    assert {len(s) for s in stamps} == {27}


# keys.seq, join, entity_span, entity_of


def test_a_sequence_number_is_fifteen_digits_wide() -> None:
    assert keys.seq(42) == "000000000000042"
    assert keys.seq(0) == "000000000000000"
    assert keys.seq(123_456_789_012_345) == "123456789012345"


def test_a_key_is_its_parts_joined_by_a_brace() -> None:
    assert keys.join("hub/a", "2026", "007") == "hub/a{2026{007"


def test_the_entity_of_a_key_is_its_first_part() -> None:
    key = keys.join("ollama-01", keys.seq(7), "x y")
    assert keys.entity_of(key) == "ollama-01"
    assert keys.entity_of("a b{c d{e") == "a b"
    assert keys.entity_of("no-separator") == "no-separator"


def test_an_entity_span_holds_its_keys_and_no_others() -> None:
    start, stop = keys.entity_span("ollama-1")
    assert (start, stop) == ("ollama-1{", "ollama-1|")
    inside = keys.join("ollama-1", keys.ts(datetime.max.replace(tzinfo=UTC)))
    outside = [keys.join("ollama-10", "0"), keys.join("ollama-", "9"), "ollama-1"]
    assert start <= inside < stop
    assert [k for k in outside if start <= k < stop] == []


# policy.floor_to


MOMENT = datetime(2026, 11, 1, 12, 34, 56, 789_000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "start"),
    [
        (60, datetime(2026, 11, 1, 12, 34, tzinfo=UTC)),
        (3600, datetime(2026, 11, 1, 12, tzinfo=UTC)),
        (300, datetime(2026, 11, 1, 12, 30, tzinfo=UTC)),
        (86_400, datetime(2026, 11, 1, tzinfo=UTC)),
        (7, datetime(2026, 11, 1, 12, 34, 53, tzinfo=UTC)),
    ],
)
def test_a_time_floors_to_the_start_of_its_bucket(seconds: int, start: datetime) -> None:
    floored = floor_to(MOMENT, seconds)
    assert floored == start
    assert floored.tzinfo is UTC


def test_odd_sizes_near_a_minute_or_an_hour_are_aligned_to_the_epoch() -> None:
    # 61 s and 3601 s buckets do not start at minutes or hours
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for seconds in (61, 3601):
        floored = floor_to(MOMENT, seconds)
        assert (floored - epoch).total_seconds() % seconds == 0
        assert timedelta(0) <= MOMENT - floored < timedelta(seconds=seconds)
    assert floor_to(MOMENT, 61) == datetime(2026, 11, 1, 12, 34, 17, tzinfo=UTC)
    assert floor_to(MOMENT, 3601) == datetime(2026, 11, 1, 12, 21, 6, tzinfo=UTC)


def test_a_time_before_the_epoch_floors_down() -> None:
    before = datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert floor_to(before, 300) == datetime(1969, 12, 31, 23, 55, tzinfo=UTC)


def test_a_time_in_another_zone_floors_to_a_utc_bucket() -> None:
    # 12:34:56+05:45 is 06:49:56 UTC: its UTC hour started at 06:00, not 06:15
    when = MOMENT.replace(tzinfo=PLUS_5_45)
    minute, hour = floor_to(when, 60), floor_to(when, 3600)
    assert (minute, hour) == (
        datetime(2026, 11, 1, 6, 49, tzinfo=UTC),
        datetime(2026, 11, 1, 6, tzinfo=UTC),
    )
    assert minute.tzinfo is UTC and hour.tzinfo is UTC


def test_buckets_are_utc_whatever_the_local_zone(local_zone_plus_5_30: None) -> None:
    when = MOMENT.replace(tzinfo=PLUS_2)  # 10:34:56.789 UTC, 16:04:56.789 local
    assert floor_to(when, 3600) == datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert floor_to(when, 3600).tzinfo is UTC


# RetentionPolicy


def test_windows_under_a_second_are_valid() -> None:
    policy = RetentionPolicy(raw_s=0.5, minute_s=1, hour_s=0.25)
    assert (policy.raw_s, policy.minute_s, policy.hour_s) == (0.5, 1, 0.25)
    assert policy.tag == "raw=0.5s,1m=1s,1h=0.25s"


@pytest.mark.parametrize("name", ["raw_s", "minute_s", "hour_s"])
@pytest.mark.parametrize("value", [0, -1.5])
def test_a_window_that_is_not_positive_is_refused(name: str, value: float) -> None:
    with pytest.raises(InvalidQuery) as caught:
        RetentionPolicy(**{name: value})
    assert str(caught.value) == f"RetentionPolicy.{name} must be > 0 seconds, got {value!r}"
