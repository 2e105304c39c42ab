"""Points in a log as people type them: ISO times (UTC unless they say
otherwise), relative times (that long before the backend's clock), @positions;
and every malformed one refused with a message naming what and the input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.memory import MemoryEventStore
from adapters.replay.errors import InvalidInput
from adapters.replay.timeparse import Point, parse_duration, parse_point, parse_time
from eventstore import EventStoreError
from tests.adapters.replay.logs import Clock
from tests.eventstore.contract.factories import T0, checks
from tests.projections.script import HUB

NOON = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ISO_FORMS = (
    "an ISO time (2025-06-01T12:00Z), a time of day (13:10, today UTC), "
    "a relative time (15m, 2h, 1d) or @POSITION"
)


@pytest.mark.parametrize(
    "text",
    [
        "2025-06-01T12:00:00Z",
        "2025-06-01T12:00Z",
        "2025-06-01t12:00:00z",
        "2025-06-01T12:00:00",  # no offset: UTC
        "2025-06-01T14:00:00+02:00",
        "2025-06-01T07:30:00-04:30",
    ],
)
def test_an_iso_time_is_read_as_the_same_instant_in_utc(text: str) -> None:
    when = parse_time(text)

    assert when == NOON
    assert when.utcoffset() == timedelta(0)


def test_a_date_alone_is_midnight_utc() -> None:
    assert parse_time("2025-06-01") == datetime(2025, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("15m", 900),
        ("2h", 7200),
        ("1d", 86400),
        ("1w", 604800),
        ("1.5h", 5400),
        ("15M", 900),
        (" 2 h ", 7200),
        ("0s", 0),
    ],
)
def test_a_relative_time_is_a_span_back_from_now(text: str, seconds: int) -> None:
    point = parse_point(text)

    assert point == Point(text, ago=timedelta(seconds=seconds))
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(("text", "position"), [("@1200", 1200), ("@0", 0), (" @7 ", 7)])
def test_a_position_is_at_and_digits_and_the_text_is_kept_as_typed(
    text: str, position: int
) -> None:
    assert parse_point(text) == Point(text, position=position)


def test_an_iso_point_holds_its_time_only() -> None:
    assert parse_point("2025-06-01T14:00+02:00") == Point("2025-06-01T14:00+02:00", time=NOON)


@pytest.mark.parametrize(
    "text", ["yesterday", "12:00 tomorrow", "15 minutes", "-15m", "2025", "2025-13-01T00:00Z", ""]
)
def test_a_malformed_time_names_what_and_the_input_and_the_forms(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_point(text, "--since")

    assert str(raised.value) == f"malformed --since {text!r}: expected {ISO_FORMS}"
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, EventStoreError)


@pytest.mark.parametrize("text", ["@", "@-3", "@1.5", "@12a"])
def test_a_malformed_position_says_what_a_position_is(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_point(text, "--until")

    assert str(raised.value) == (
        f"malformed --until {text!r}: a position is @ and digits, e.g. @1200"
    )


def test_a_position_of_digits_int_cannot_read_is_malformed() -> None:
    with pytest.raises(InvalidInput, match=r"malformed --at '@²': a position is @ and digits"):
        parse_point("@²", "--at")


@pytest.mark.parametrize("text", ["15 minutes", "-5m", "5", "m", "1y"])
def test_a_malformed_duration_names_the_input(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_duration(text)

    assert str(raised.value) == f"malformed duration {text!r}: expected e.g. 30s, 15m, 2h, 1d"


@pytest.mark.anyio
async def test_points_resolve_to_the_last_position_at_or_before_them(
    store: MemoryEventStore, clock: Clock
) -> None:
    for minute in range(3):  # positions 1, 2, 3 at T0, T0+1m, T0+2m
        clock.at(60 * minute)
        await store.append(HUB, "instance/a", checks(1))
    clock.at(10 * 60)

    async def position(text: str) -> int:
        return await parse_point(text).position_in(store, HUB)

    assert await position((T0 + timedelta(minutes=1)).isoformat()) == 2
    assert await position((T0 + timedelta(minutes=1, microseconds=-1)).isoformat()) == 1
    assert await position((T0 - timedelta(seconds=1)).isoformat()) == 0
    assert await position("8m") == 3  # 10 - 8 = T0 + 2 min, by the backend's clock
    assert await position("9m") == 2
    assert await position("1h") == 0
    assert await position("@2") == 2
    assert await position("@999") == 999  # a position is taken as given: no read


@pytest.mark.anyio
async def test_a_relative_point_is_a_time_by_the_backends_clock(store: MemoryEventStore) -> None:
    offset = timezone(timedelta(hours=5))

    assert await parse_point("90s").time_in(store) == T0 - timedelta(seconds=90)
    assert await parse_point("2025-06-01T17:00+05:00").time_in(store) == datetime(
        2025, 6, 1, 17, 0, tzinfo=offset
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("text", "at"), [("11:48", (11, 48, 0)), ("9:05:30", (9, 5, 30)), ("00:00", (0, 0, 0))]
)
async def test_a_time_of_day_is_today_by_the_backends_clock_in_utc(
    store: MemoryEventStore, text: str, at: tuple[int, int, int]
) -> None:
    assert await parse_point(text).time_in(store) == T0.replace(
        hour=at[0], minute=at[1], second=at[2]
    )


@pytest.mark.parametrize("text", ["25:00", "12:60", "12:5", "1210"])
def test_a_malformed_time_of_day_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="malformed --since"):
        parse_point(text, "--since")
