"""Points in a log as people type them: ISO times, relative times, positions.

``2025-06-01T12:00:00Z`` (an offset or ``Z``; a time without one is UTC),
``13:10`` / ``13:10:30`` (that time today, UTC, by the backend's clock),
``15m`` / ``2h`` / ``30s`` / ``1d`` (that long before the backend's clock
now), ``@1234`` (a log position).

One rule for a point outside the log (:meth:`Point.position_in_log`, what
``state --at`` and ``diff A B`` use): a point names a moment the log covers
— ``@0`` (the hub before its first event) to ``@HEAD``, or a time from its
first event up to the backend's clock now — or it is refused, naming what
the log covers.  Window bounds (``--since``, ``--until``) are cut to the log
instead: a window asks for what the log holds within it.
"""

from __future__ import annotations

import re
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as TimeOfDay

from eventstore.store import EventStore

from .errors import InvalidInput, OutsideLog

_TIME_OF_DAY = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$")
_POSITION = re.compile(r"@([0-9]+)")
"""ASCII digits only: ``str.isdigit`` also accepts ``²``, which ``int`` cannot read."""
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MICROSECOND = timedelta(microseconds=1)
HELP = (
    "an ISO time (2025-06-01T12:00Z), a time of day (13:10, today UTC), "
    "a relative time (15m, 2h, 1d) or @POSITION"
)


@dataclass(frozen=True)
class Point:
    """A point in a hub's log: a time, or a position (exactly one)."""

    text: str
    time: datetime | None = None
    position: int | None = None
    ago: timedelta | None = None
    time_of_day: TimeOfDay | None = None
    """Today's, by the backend's clock (UTC)."""

    async def position_in(self, store: EventStore, hub_id: str) -> int:
        """The last position at or before this point (0 before the first event):
        where a window up to this point ends."""
        if self.position is not None:
            return self.position
        return await store.position_at(hub_id, await self.time_in(store))

    async def position_before(self, store: EventStore, hub_id: str) -> int:
        """The last position before this point: a window from this point
        holds what comes after it, so the event at the point too."""
        if self.position is not None:
            return max(self.position - 1, 0)
        return await store.position_at(hub_id, await self.time_in(store) - _MICROSECOND)

    async def position_in_log(self, store: EventStore, hub_id: str) -> int:
        """This point as a position of the hub's log, by the module's one rule.

        Raises: OutsideLog naming what the log covers.
        """
        if self.position is not None:
            head = await store.head(hub_id)
            if self.position > head:
                raise OutsideLog(
                    f"position {self.position} is outside hub {hub_id!r}'s log (@0..@{head})"
                )
            return self.position
        when = await self.time_in(store)
        now = await store.now()
        if when > now:
            raise OutsideLog(f"{self.text} is in the future (the log's clock says {_iso(now)})")
        async with aclosing(store.read_log(hub_id, limit=1)) as events:
            first = [event async for event in events]
        if not first or when < first[0].recorded_at:
            since = f"{_iso(first[0].recorded_at)}, @{first[0].position}" if first else "none"
            raise OutsideLog(
                f"{self.text} is before hub {hub_id!r}'s first event ({since}); "
                "@0 is the hub before it"
            )
        return await store.position_at(hub_id, when)

    async def time_in(self, store: EventStore) -> datetime:
        if self.ago is not None:
            return await store.now() - self.ago
        if self.time_of_day is not None:
            today = (await store.now()).astimezone(UTC).date()
            return datetime.combine(today, self.time_of_day, tzinfo=UTC)
        assert self.time is not None
        return self.time


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_point(text: str, what: str = "time") -> Point:
    """Raises: InvalidInput naming ``what`` and the forms accepted."""
    value = text.strip()
    if value.startswith("@"):
        position = _POSITION.fullmatch(value)
        if position is None:
            raise InvalidInput(f"malformed {what} {text!r}: a position is @ and digits, e.g. @1200")
        return Point(text, position=int(position[1]))
    relative = _RELATIVE.match(value.lower())
    if relative:
        amount, unit = relative.groups()
        return Point(text, ago=timedelta(seconds=float(amount) * _UNITS[unit]))
    of_day = _TIME_OF_DAY.fullmatch(value)
    if of_day:
        hour, minute, second = (int(part or 0) for part in of_day.groups())
        if hour > 23 or minute > 59 or second > 59:
            raise InvalidInput(f"malformed {what} {text!r}: expected {HELP}")
        return Point(text, time_of_day=TimeOfDay(hour, minute, second))
    return Point(text, time=parse_time(value, what))


def parse_time(text: str, what: str = "time") -> datetime:
    try:
        when = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise InvalidInput(f"malformed {what} {text!r}: expected {HELP}") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def parse_duration(text: str) -> timedelta:
    """``15m`` -> 15 minutes.  Raises: InvalidInput."""
    relative = _RELATIVE.match(text.strip().lower())
    if not relative:
        raise InvalidInput(f"malformed duration {text!r}: expected e.g. 30s, 15m, 2h, 1d")
    amount, unit = relative.groups()
    return timedelta(seconds=float(amount) * _UNITS[unit])
