"""What ``record()`` hands back: one event's place in the recorder, and its fate."""

from __future__ import annotations

import enum
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..events import Event


class Fate(enum.Enum):
    """Where a recorded event is.  ``PENDING`` until the loop settles it."""

    PENDING = "pending"
    APPENDED = "appended"  # in the backend
    SPILLED = "spilled"  # fsynced in the spill file; drained when the backend returns
    COALESCED = "coalesced"  # a sample replaced by a later one of the same instance
    DROPPED = "dropped"  # a sample never buffered (the last resort; counted)
    REFUSED = "refused"  # a lifecycle event the full buffer would not take: the caller's to retry
    REJECTED = "rejected"  # the backend refuses it for good (invalid); logged and counted
    UNWRITTEN = "unwritten"  # close() gave up on it; listed in the close report


ACKNOWLEDGED = frozenset({Fate.APPENDED, Fate.SPILLED})
"""The fates in which an event is durable: in the backend or fsynced in the spill file."""
SETTLED = frozenset(Fate) - {Fate.PENDING}


class Receipt:
    """One ``record()`` call: false when the event was refused or dropped.

    ``await receipt`` waits until the event is settled and returns its
    :class:`Fate`; ``acknowledged`` is then true for APPENDED or SPILLED.
    """

    __slots__ = ("_waiter", "event", "fate", "hub_id", "reason", "seq", "stream")

    def __init__(
        self, hub_id: str, stream: str, event: Event, seq: int, waiter: Any, fate: Fate
    ) -> None:
        self.hub_id = hub_id
        self.stream = stream
        self.event = event
        self.seq = seq
        self.fate = fate
        self.reason = ""
        self._waiter = waiter  # the recorder's acknowledge(seq) coroutine function

    def __bool__(self) -> bool:
        return self.fate not in (Fate.REFUSED, Fate.DROPPED)

    @property
    def acknowledged(self) -> bool:
        return self.fate in ACKNOWLEDGED

    def __await__(self) -> Generator[Any, None, Fate]:
        if self.fate is Fate.PENDING:
            yield from self._waiter(self).__await__()
        return self.fate

    def __repr__(self) -> str:
        why = f", {self.reason}" if self.reason else ""
        return f"<Receipt {self.stream} #{self.seq} {self.fate.value}{why}>"


def counted(receipt: Receipt) -> bool:
    """False for the recorder's own ``RecorderStats`` events: they are not in the counts."""
    return type(receipt.event).__name__ != "RecorderStats"
