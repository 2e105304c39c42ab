"""A tiny reference log written from the contract's words alone, sharing no
code with ``eventstore/store.py``: what append and reads must do.

The model-based test compares every backend — the memory one included —
with this, so a bug in the shared contract code (which every backend runs)
is seen too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID


@dataclass
class Reference:
    """One hub's log: (position, stream, version, event_id) in order."""

    log: list[tuple[int, str, int, UUID]] = field(default_factory=list)

    def version(self, stream: str) -> int:
        return sum(1 for _, s, _, _ in self.log if s == stream)

    def append(self, stream: str, ids: list[UUID], expected: str | int) -> object:
        """The contract's answer: (version, first, last), or the error's name."""
        if len(set(ids)) != len(ids):
            return "DuplicateEventError"
        known = {i: (p, s, v) for p, s, v, i in self.log}
        found = [known.get(i) for i in ids]
        if any(found):
            return _as_retry(stream, found)
        current = self.version(stream)
        wanted = 0 if expected == "no_stream" else expected
        if expected != "any" and wanted != current:
            return "WrongExpectedVersion"
        first = len(self.log) + 1
        for offset, event_id in enumerate(ids):
            self.log.append((first + offset, stream, current + 1 + offset, event_id))
        return (current + len(ids), first, first + len(ids) - 1)

    def stream(self, stream: str) -> list[tuple[int, str, int, UUID]]:
        return [row for row in self.log if row[1] == stream]


def _as_retry(stream: str, found: list[tuple[int, str, int] | None]) -> object:
    """A batch seen before: the same answer if it is the whole batch, in
    order, on the same stream; else a refusal."""
    if any(f is None for f in found):
        return "DuplicateEventError"
    rows = [f for f in found if f is not None]
    first_position, _, first_version = rows[0]
    for offset, (position, s, version) in enumerate(rows):
        if (s, position, version) != (stream, first_position + offset, first_version + offset):
            return "DuplicateEventError"
    last = rows[-1]
    return (last[2], first_position, last[0])
