"""The base class every projection inherits: when ``apply_all`` ticks (per
``clock_resolution``) and with what position and clock, how a fold that
raises is quarantined, and how ``flag`` counts anomalies.  Pure folds of a
small projection that records every tick and fold it sees: no store."""

# msgspec copies empty-collection defaults per instance; ruff cannot see that
# through a ReadModel subclass.
# ruff: noqa: RUF012

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest
from msgspec.structs import replace

from eventstore import Event, HealthChecked
from eventstore.envelope import RecordedEvent
from projections import Anomaly, Meta, Projection, Quarantined, ReadModel, keys
from projections.readmodel import flag

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # a minute's start
EAST = timezone(timedelta(hours=2))


class Tick(msgspec.Struct, frozen=True, kw_only=True):
    position: int | None
    clock: datetime | None


class Folded(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    ok: bool


class Ledger(ReadModel, frozen=True, kw_only=True):
    HEAD = ("ticks", "folded")

    ticks: dict[str, Tick] = {}
    folded: dict[str, Folded] = {}


class Recorder(Projection[Ledger]):
    """Keeps a row per tick (the meta it was given) and per event folded;
    a failed health check makes its fold raise."""

    name = "recorder"
    state_type = Ledger
    categories = frozenset({"instance"})

    def __init__(self, clock_resolution: int | None) -> None:
        self.clock_resolution = clock_resolution

    def tick(self, state: Ledger, meta: Meta) -> Ledger:
        row = Tick(position=meta.position, clock=meta.clock)
        ticks = {**state.ticks, keys.seq(len(state.ticks)): row}
        return replace(state, meta=meta, ticks=ticks)

    def evolve(self, state: Ledger, event: RecordedEvent) -> Ledger:
        e = event.event
        assert isinstance(e, HealthChecked)
        if not e.ok:
            raise ValueError(f"check {event.version} failed")
        row = Folded(position=event.position, ok=e.ok)
        return replace(state, folded={**state.folded, keys.seq(event.position): row})


def checks(*times: datetime, failing: tuple[int, ...] = ()) -> list[RecordedEvent]:
    """Health checks of instance ``a`` recorded at ``times``, at positions
    1, 2, …; those at ``failing`` positions failed."""
    return [
        at(n, t, HealthChecked(ok=n not in failing, checked_at=t)) for n, t in enumerate(times, 1)
    ]


def at(position: int, recorded_at: datetime, event: Event) -> RecordedEvent:
    return RecordedEvent(
        hub_id="pool", stream="instance/a", version=position, position=position,
        event_id=uuid.uuid4(), type=type(event).__name__, schema_version=1,
        recorded_at=recorded_at, event=event,
    )  # fmt: skip


def ticks(state: Ledger) -> list[tuple[int | None, datetime | None]]:
    return [(t.position, t.clock) for t in state.ticks.values()]


def one_by_one(projection: Projection[Ledger], events: list[RecordedEvent]) -> Ledger:
    state = projection.initial()
    for event in events:
        state = projection.apply(state, event)
    return state


def test_resolution_zero_ticks_at_every_event_even_when_the_clock_stands_still() -> None:
    s = timedelta(seconds=1)
    events = checks(T0, T0 + s, T0 + s, T0 + 5 * s)
    projection = Recorder(clock_resolution=0)
    state = projection.apply_all(projection.initial(), events)
    assert ticks(state) == [(1, T0), (2, T0 + s), (3, T0 + s), (4, T0 + 5 * s)]
    assert list(state.folded) == [keys.seq(n) for n in (1, 2, 3, 4)]
    assert state == one_by_one(projection, events)


def test_a_minute_resolution_ticks_when_the_clocks_minute_changes_and_only_then() -> None:
    s = timedelta(seconds=1)
    # 60 s is the next minute's first instant; 119 s still that minute
    events = checks(T0 + 10 * s, T0 + 20 * s, T0 + 60 * s, T0 + 119 * s, T0 + 200 * s)
    projection = Recorder(clock_resolution=60)
    state = projection.apply_all(projection.initial(), events)
    # each tick sees the position and clock of the event that moved the minute
    assert ticks(state) == [(1, T0 + 10 * s), (3, T0 + 60 * s), (5, T0 + 200 * s)]
    assert state.meta == Meta(position=5, clock=T0 + 200 * s)
    assert list(state.folded) == [keys.seq(n) for n in (1, 2, 3, 4, 5)]


def test_without_a_resolution_the_fold_never_ticks_but_the_meta_still_advances() -> None:
    s = timedelta(seconds=1)
    projection = Recorder(clock_resolution=None)
    state = projection.apply_all(projection.initial(), checks(T0, T0 + 90 * s, T0 + 30 * s))
    assert ticks(state) == []
    assert state.meta == Meta(position=3, clock=T0 + 90 * s)


def test_a_batch_at_the_instant_the_clock_already_shows_does_not_tick_again() -> None:
    projection = Recorder(clock_resolution=60)
    first = projection.apply_all(projection.initial(), checks(T0 + timedelta(seconds=10)))
    [later] = checks(T0, T0 + timedelta(seconds=10))[1:]
    state = projection.apply_all(first, [later])
    assert ticks(state) == [(1, T0 + timedelta(seconds=10))]
    assert state.meta.position == 2


@pytest.mark.parametrize("resolution", [0, 60, None])
def test_the_clock_keeps_the_first_record_of_its_latest_instant(resolution: int | None) -> None:
    # the same instant recorded again, in another zone, is no later: the
    # clock stays what it was, zone included
    events = checks(T0, T0.astimezone(EAST))
    projection = Recorder(clock_resolution=resolution)
    for state in (
        projection.apply_all(projection.initial(), events),
        one_by_one(projection, events),
    ):
        assert state.meta.clock == T0
        assert state.meta.clock.tzinfo is UTC
        assert state.meta.position == 2


@pytest.mark.parametrize("resolution", [0, 60, None])
def test_a_fold_that_raises_quarantines_its_event_and_the_fold_goes_on(
    resolution: int | None,
) -> None:
    s = timedelta(seconds=1)
    events = checks(T0, T0 + s, T0 + 2 * s, T0 + 3 * s, failing=(2, 4))
    projection = Recorder(clock_resolution=resolution)
    state = projection.apply_all(projection.initial(), events)
    assert state.quarantine == {
        keys.seq(n): Quarantined(
            position=n, stream="instance/a", version=n, event_type="HealthChecked",
            error=f"ValueError: check {n} failed", recorded_at=T0 + (n - 1) * s,
        )
        for n in (2, 4)
    }  # fmt: skip
    assert state.meta.quarantined == 2
    assert list(state.folded) == [keys.seq(1), keys.seq(3)]
    assert state.meta.position == 4


def test_flag_counts_each_kind_and_keeps_a_row_per_event_and_kind() -> None:
    first, second = checks(T0, T0 + timedelta(seconds=1))
    state = Recorder(clock_resolution=None).initial()
    state = flag(state, first, "late")
    state = flag(state, second, "late", "twice")
    state = flag(state, second, "odd")
    assert state.meta.anomaly_counts == {"late": 2, "odd": 1}
    common = {"stream": "instance/a", "event_type": "HealthChecked"}
    assert state.anomalies == {
        keys.join(keys.seq(1), "late"): Anomaly(
            position=1, kind="late", detail="", recorded_at=T0, **common
        ),
        keys.join(keys.seq(2), "late"): Anomaly(
            position=2, kind="late", detail="twice", recorded_at=T0 + timedelta(seconds=1), **common
        ),
        keys.join(keys.seq(2), "odd"): Anomaly(
            position=2, kind="odd", detail="", recorded_at=T0 + timedelta(seconds=1), **common
        ),
    }
