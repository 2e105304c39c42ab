"""What every log-only checker of a contest shares.

A checker reads a hub's events, nothing else (not what the workers said),
and lists what the log disproves; [] is a pass.  Its report is a
``LogReport``: the problems, and whatever its own checks keep.  Two rules
hold for every decision of the one read-decide-append loop, whatever its
stream, and are written here once:

* the clock (``DecisionClock``): each decision was made between the
  previous decision's ``recorded_at`` and its own;
* the state (``state_after``): the state an event says it leaves equals the
  fold of everything before it and the event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class LogReport:
    problems: list[str] = field(default_factory=list)


@dataclass
class DecisionClock:
    """The decisions on one stream, in time.  One decision's events come in
    one batch, with the same ``decided_at`` and ``recorded_at``."""

    last_at: datetime | None = None
    decision: tuple[datetime, datetime] | None = None
    floor: datetime | None = None  # recorded_at of the decision before

    def check(self, decided_at: datetime, at: datetime) -> list[str]:
        """The next event's ``decided_at`` and ``recorded_at`` (``at``)."""
        if self.decision != (decided_at, at):
            self.decision, self.floor = (decided_at, at), self.last_at
        self.last_at = at
        if decided_at > at or (self.floor is not None and decided_at < self.floor):
            return [f"decided at {decided_at}, outside [{self.floor}, {at}]"]
        return []


def state_after(what: str, said: object, folded: object) -> list[str]:
    """[] if the ``what`` an event says it leaves is what the log folds to."""
    return [] if said == folded else [f"{what}-after {said} but the log folds to {folded}"]
