"""An event as one line (aligned text for people, JSON for programs), plain
data with every field, aligned tables, sparklines, and the hub's own clock
for events that carry no time of their own."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.memory import MemoryEventStore
from adapters.replay.lines import HubClock, cells, json_line, summary, text_line, timestamp
from adapters.replay.plain import plain
from adapters.replay.sparkline import sparkline
from adapters.replay.table import Layout, render
from eventstore import HealthChanged, InstanceUpdated, RecordedEvent
from tests.adapters.replay.logs import DAMAGED, UNKNOWN, Clock, stored
from tests.eventstore.contract.factories import T0
from tests.projections.script import HUB, S, Script


async def log_of(store: MemoryEventStore) -> list[RecordedEvent]:
    return [e async for e in store.read_log(HUB)]


@pytest.fixture
async def events(store: MemoryEventStore, script: Script) -> list[RecordedEvent]:
    """1 a check, 2 a's HealthChanged (reason left empty), 3 a type this
    hublog does not know, 4 a HealthChecked whose bytes are damaged."""
    await script.check("a", True)
    await script.change("a", S.UNKNOWN, S.HEALTHY)
    await store.import_events(
        HUB, [stored(3, "hub", 1, UNKNOWN), stored(4, "instance/a", 3, DAMAGED)]
    )
    return await log_of(store)


@pytest.mark.anyio
async def test_a_text_line_is_position_time_stream_version_type_and_set_fields(
    events: list[RecordedEvent],
) -> None:
    assert [text_line(e) for e in events[:3]] == [
        (
            "      1  2026-11-01 12:00:00.000  instance/a@1  HealthChecked  "
            "ok=True checked_at=2026-11-01T12:00:00Z latency_ms=12.5 consecutive_failures=0"
        ),
        (
            "      2  2026-11-01 12:00:00.000  instance/a@2  HealthChanged  "
            "from_status=unknown to_status=healthy consecutive_failures=0"  # no empty reason
        ),
        "      3  2026-11-01 12:00:00.000  hub@1  QuotaChanged  quota=5",
    ]
    assert text_line(events[3]).startswith(
        "      4  2026-11-01 12:00:00.000  instance/a@3  HealthChecked  "
        "error=MessagePack data is malformed"
    )
    assert cells(events[2]) == ["3", "2026-11-01 12:00:00.000", "hub@1", "QuotaChanged", "quota=5"]


@pytest.mark.anyio
async def test_a_json_line_is_the_envelope_and_every_field_of_the_payload(
    events: list[RecordedEvent],
) -> None:
    change, unknown, damaged = (json.loads(json_line(e)) for e in events[1:])

    assert {k: v for k, v in change.items() if k not in ("event_id", "event")} == {
        "hub_id": HUB,
        "stream": "instance/a",
        "version": 2,
        "position": 2,
        "type": "HealthChanged",
        "schema_version": 1,
        "recorded_at": "2026-11-01T12:00:00Z",
        "correlation_id": None,
        "causation_id": None,
    }
    assert change["event"] == {
        "type": "HealthChanged",
        "event_id": change["event_id"],
        "from_status": "unknown",
        "to_status": "healthy",
        "reason": "",  # a default is shown: jq .event.reason reads ""
        "consecutive_failures": 0,
    }
    assert unknown["event"] == {"quota": 5}
    assert set(damaged["event"]) == {"error"}


@pytest.fixture
async def not_messagepack(store: MemoryEventStore) -> RecordedEvent:
    """A type this hublog does not know, whose bytes are not MessagePack."""
    await store.import_events(HUB, [stored(1, "hub", 1, ("Gadget", b"\xc1"))])
    [event] = await log_of(store)
    return event


@pytest.mark.anyio
async def test_an_unknown_type_that_is_not_messagepack_still_reads_as_a_line(
    not_messagepack: RecordedEvent,
) -> None:
    assert text_line(not_messagepack).startswith("      1  2026-11-01 12:00:00.000  hub@1  Gadget")
    assert json.loads(json_line(not_messagepack))["type"] == "Gadget"


def change_with(reason: str) -> RecordedEvent:
    change = HealthChanged(from_status=S.UNKNOWN, to_status=S.HEALTHY, reason=reason)
    return RecordedEvent(
        hub_id=HUB,
        stream="instance/a",
        version=1,
        position=1,
        event_id=change.event_id,
        type="HealthChanged",
        schema_version=1,
        recorded_at=T0,
        event=change,
    )


def test_a_summary_is_whole_unless_a_width_is_given() -> None:
    # 68 characters besides the reason
    fits, longer = summary(change_with("x" * 32), 100), summary(change_with("x" * 33), 100)
    whole = summary(change_with("x" * 200))

    assert (len(fits), fits[-23:]) == (100, " consecutive_failures=0")
    assert (len(longer), longer[-22:]) == (100, " consecutive_failures…")
    assert len(whole) == 268 and whole.endswith(" consecutive_failures=0")


def test_a_timestamp_is_utc_to_the_millisecond() -> None:
    later = datetime(2026, 11, 1, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))

    assert timestamp(later) == "2026-11-01 12:00:00.123"


def test_plain_data_shows_every_field_but_those_never_given() -> None:
    change = HealthChanged(from_status=S.UNKNOWN, to_status=S.DEGRADED)
    update = InstanceUpdated(name="renamed", tags=frozenset({"gpu", "cpu"}))

    assert plain(change) == {
        "type": "HealthChanged",
        "event_id": str(change.event_id),
        "from_status": "unknown",
        "to_status": "degraded",
        "reason": "",
        "consecutive_failures": 0,
    }
    assert plain(update) == {  # UNSET: not given, so not shown
        "type": "InstanceUpdated",
        "event_id": str(update.event_id),
        "name": "renamed",
        "tags": ["cpu", "gpu"],
    }
    assert list(plain({"b": 1, "a": {"d": 2, "c": 3}}).items()) == [
        ("a", {"c": 3, "d": 2}),
        ("b", 1),
    ]
    assert plain((T0, 1.5)) == ["2026-11-01T12:00:00Z", 1.5]


def test_a_table_aligns_text_left_and_numbers_right() -> None:
    rows = [["a", 1, 2.5, "x"], ["bbb", 1234, None, "long text"], ["c", 5, 1234567.25, "y"]]

    assert render(("name", "n", "value", "note"), rows) == [
        "name  n     value        note",
        "a        1          2.5  x",
        "bbb   1234            -  long text",
        "c        5  1,234,567.2  y",
    ]


def test_a_streaming_table_keeps_the_layout_of_its_first_rows() -> None:
    layout = Layout(("position", "type"), [[7, "HealthChecked"]])
    seen: list[tuple[str, str]] = []

    def style(header: str, cell: str) -> str:
        seen.append((header, cell))
        return cell.upper()

    assert layout.header() == "position  type"
    assert layout.line([12345678901, "LockGranted"]) == "12345678901  LockGranted"
    assert layout.line([8, "lockgranted"], style) == "       8  LOCKGRANTED"
    assert seen == [("position", "       8"), ("type", "lockgranted")]


@pytest.mark.parametrize(
    ("values", "width", "line"),
    [
        ([], 60, ""),
        ([3, 3, 3], 60, "▁▁▁"),
        ([0, 1, 2, 3, 4, 5, 6, 7], 60, "▁▂▃▄▅▆▇█"),
        ([7, 0], 60, "█▁"),
        (list(range(120)), 8, "▁▂▃▄▅▆▇█"),  # means of 15 values each
        ([0, 0, 10, 10], 2, "▁█"),
    ],
)
def test_a_sparkline_scales_between_min_and_max(values: list[float], width: int, line: str) -> None:
    assert sparkline(values, width) == line


def test_a_sparkline_never_exceeds_its_width() -> None:
    assert len(sparkline([float(i % 7) for i in range(1000)])) == 60


@pytest.mark.anyio
async def test_the_hub_clock_places_events_by_the_last_own_time(
    store: MemoryEventStore, script: Script, clock: Clock
) -> None:
    clock.at(5)
    await script.register("a")  # recorded 12:00:05, no time of its own
    clock.at(10)
    await script.check("a", True, at=T0)  # recorded 10 s after it was checked
    clock.at(12)
    await script.change("a", S.UNKNOWN, S.HEALTHY)
    first, check, later = await log_of(store)

    primed = HubClock().prime([first, check, later])
    unprimed = HubClock()

    assert [primed.at(e) for e in (first, check, later)] == [
        T0 - timedelta(seconds=5),  # the first check's offset, -10 s
        T0,
        T0 + timedelta(seconds=2),
    ]
    assert unprimed.at(first) == T0 + timedelta(seconds=5)  # no offset known yet
    assert first.recorded_at.tzinfo == UTC
