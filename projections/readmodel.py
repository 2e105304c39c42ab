"""What every read model has, and the base class of every projection.

A read model is a frozen msgspec Struct whose fields are ``meta`` (one small
Struct) and *tables*: ``dict[key, row]`` of frozen Struct rows.  Tables come
in two kinds:

* **head** tables (named in ``HEAD``) are what the fold reads back: the
  instances, the lock table, each metric series' open buckets.  They stay
  whole in the state.
* **history** tables (every other table) are only ever written: health
  checks, raw samples, closed rollup buckets, anomalies, quarantined events.
  A runner stores them and then drops them from its state (``trim``), so a
  hub's history never has to fit in memory; folded all at once, the state
  holds them all.

``apply(state, event) -> state`` is pure: no I/O, no clock (time comes from
``recorded_at`` and the events' own timestamps), never a mutated input.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar

import msgspec
from msgspec.structs import replace

from eventstore import streams
from eventstore.envelope import CorruptEvent, RecordedEvent
from eventstore.events import Event

from . import keys
from .policy import floor_to

_READABLE = (Event, CorruptEvent)


class Meta(msgspec.Struct, frozen=True, kw_only=True):
    """The scalars of a read model (stored as one row)."""

    position: int = 0
    """The last log position folded in."""
    clock: datetime | None = None
    """The latest ``recorded_at`` seen: the backend's clock, as the log knows it."""
    anomaly_counts: dict[str, int] = {}
    quarantined: int = 0


class Anomaly(msgspec.Struct, frozen=True, kw_only=True):
    """An event that broke an invariant of the hub model; recorded, never fatal."""

    position: int
    stream: str
    event_type: str
    kind: str
    detail: str
    recorded_at: datetime


class Quarantined(msgspec.Struct, frozen=True, kw_only=True):
    """An event the projection could not fold: undecodable, unknown, or one
    whose fold raised.  The runner moved past it."""

    position: int
    stream: str
    version: int
    event_type: str
    error: str
    recorded_at: datetime


class ReadModel(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every read model; see the module docstring."""

    HEAD: ClassVar[tuple[str, ...]] = ()

    meta: Meta = Meta()
    anomalies: dict[str, Anomaly] = {}
    quarantine: dict[str, Quarantined] = {}


S = TypeVar("S", bound=ReadModel)


class Projection(abc.ABC, Generic[S]):
    """A pure fold of a hub's log into one read model.

    Subclasses set ``name`` (the storage namespace), ``version`` (bump it when
    the fold's meaning changes: stored models of another version must be
    rebuilt), ``state_type`` and ``categories`` (the stream categories folded;
    poison events elsewhere are ignored), and implement :meth:`evolve`.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    state_type: ClassVar[type[ReadModel]]
    categories: ClassVar[frozenset[str]]
    event_types: ClassVar[frozenset[str] | None] = None
    """The event types folded (None: all of the folded categories).  A corrupt
    event of another type is skipped; an unknown type is quarantined, since
    it may be one that matters."""
    derived_types: ClassVar[dict[str, type]] = {}
    """Row types of the tables :meth:`derived` fills."""
    snapshot_every: ClassVar[int | None] = None
    """A runner's default snapshot interval (positions) for this projection."""
    clock_resolution: ClassVar[int | None] = 0
    """How much of the advancing ``meta`` (position, clock) :meth:`tick` and
    :meth:`evolve` read, which lets :meth:`apply_all` skip work per event:
    0, all of it (tick every event); N seconds, only the clock floored to N
    (tick when that changes); None, none of it (never tick)."""

    def fingerprint(self, hub_id: str) -> str:
        """What a stored read model must have been built by to be continued."""
        return f"{self.name}:v{self.version}"

    def initial(self) -> S:
        return self.state_type()  # type: ignore[return-value]

    def apply(self, state: S, event: RecordedEvent) -> S:
        """Fold one event.  Never raises for what is in the log: an invariant
        broken is an anomaly, an event that cannot be folded is quarantined."""
        return self._evolved(self.tick(state, _advanced(state.meta, event)), event)

    def apply_all(self, state: S, events: Sequence[RecordedEvent]) -> S:
        """:meth:`apply` over ``events``: the same state, with the position
        and clock advanced once at the end, and ticks only where
        :attr:`clock_resolution` says they matter (what a batch fold calls)."""
        if self.clock_resolution == 0:
            for event in events:
                state = self.apply(state, event)
            return state
        if not events:
            return state
        resolution, clock = self.clock_resolution, state.meta.clock
        span = None  # [start, end) of the clock's bucket as last ticked
        for event in events:
            if clock is None or event.recorded_at > clock:
                clock = event.recorded_at
                if resolution is not None and (span is None or not span[0] <= clock < span[1]):
                    start = floor_to(clock, resolution)
                    span = (start, start + timedelta(seconds=resolution))
                    meta = replace(state.meta, position=event.position, clock=clock)
                    state = self.tick(state, meta)
            state = self._evolved(state, event)
        return replace(state, meta=replace(state.meta, position=events[-1].position, clock=clock))

    def _evolved(self, state: S, event: RecordedEvent) -> S:
        """Fold one event on a ticked state (what :meth:`apply` does after
        the tick)."""
        if streams.category_of(event.stream) not in self.categories:
            return state
        unwanted = self.event_types is not None and event.type not in self.event_types
        if unwanted and isinstance(event.event, _READABLE):
            return state
        if not isinstance(event.event, Event):
            error = (
                event.event.error if isinstance(event.event, CorruptEvent) else "unknown event type"
            )
            return quarantine(state, event, error)
        try:
            return self.evolve(state, event)
        except Exception as exc:  # noqa: BLE001 - a fold bug must not stall the runner; it is recorded
            return quarantine(state, event, f"{type(exc).__name__}: {exc}")

    def tick(self, state: S, meta: Meta) -> S:
        """Take the advanced position and clock; a projection that expires
        rows by time overrides this."""
        return replace(state, meta=meta)

    @abc.abstractmethod
    def evolve(self, state: S, event: RecordedEvent) -> S:
        """Fold one readable event of a folded category."""

    def derived(self, state: S) -> dict[str, dict[str, Any]]:
        """Rows computed from the head rather than folded (the hub summary,
        open rollup buckets): ``{table: {key: row}}``.  Stored like the rest."""
        return {}

    def prunes(self, before: S, after: S) -> list[tuple[str, str, str]]:
        """Key ranges ``(table, start, stop)`` that the step from ``before``
        to ``after`` removed from history tables (rows expired by time)."""
        return []


def _advanced(meta: Meta, event: RecordedEvent) -> Meta:
    clock = meta.clock
    if clock is None or event.recorded_at > clock:
        clock = event.recorded_at
    return replace(meta, position=event.position, clock=clock)


def flag(state: S, event: RecordedEvent, kind: str, detail: str = "") -> S:
    """Record that ``event`` broke an invariant (``kind``): counted in
    ``meta.anomaly_counts`` and kept as a row of ``anomalies``."""
    anomaly = Anomaly(
        position=event.position,
        stream=event.stream,
        event_type=event.type,
        kind=kind,
        detail=detail,
        recorded_at=event.recorded_at,
    )
    counts = dict(state.meta.anomaly_counts)
    counts[kind] = counts.get(kind, 0) + 1
    return replace(
        state,
        meta=replace(state.meta, anomaly_counts=counts),
        anomalies={**state.anomalies, keys.join(keys.seq(event.position), kind): anomaly},
    )


def quarantine(state: S, event: RecordedEvent, error: str) -> S:
    row = Quarantined(
        position=event.position,
        stream=event.stream,
        version=event.version,
        event_type=event.type,
        error=error,
        recorded_at=event.recorded_at,
    )
    return replace(
        state,
        meta=replace(state.meta, quarantined=state.meta.quarantined + 1),
        quarantine={**state.quarantine, keys.seq(event.position): row},
    )
