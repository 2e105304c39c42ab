"""Folding without storage: all at once (the reference every stored read
model must equal), or draining rows into memory as it goes (for big logs)."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from typing import Any, TypeVar

from eventstore.envelope import RecordedEvent

from .readmodel import Projection, ReadModel
from .tables import Tables, derived_writes, diff, rows_of, trim

S = TypeVar("S", bound=ReadModel)


def fold(projection: Projection[S], events: Iterable[RecordedEvent], state: S | None = None) -> S:
    """``apply`` over ``events``: the whole read model, history included, in
    one state.  Copies grow with the history: for big logs use :class:`Folder`."""
    result = projection.initial() if state is None else state
    for event in events:
        result = projection.apply(result, event)
    return result


def rows(projection: Projection[Any], state: ReadModel) -> dict[str, dict[str, Any]]:
    """The rows a stored read model of ``state`` holds (see ``tables.rows_of``)."""
    return rows_of(projection, state)


class Folder:
    """Folds events and keeps the read model as rows in memory, storing the
    history every ``every`` events exactly as a runner commits a batch.

    ``folder.tables`` then holds what a stored read model would hold.
    """

    def __init__(self, projection: Projection[Any], *, every: int = 256) -> None:
        self.projection = projection
        self.every = every
        self.tables = Tables()
        self.state: ReadModel = projection.initial()
        self._stored: ReadModel = self.state
        self._derived: dict[str, dict[str, Any]] = {}
        self._pending = 0

    def add(self, event: RecordedEvent) -> None:
        self.state = self.projection.apply(self.state, event)
        self._pending += 1
        if self._pending >= self.every:
            self.flush()

    async def add_all(self, events: AsyncIterable[RecordedEvent]) -> None:
        async for event in events:
            self.add(event)
        self.flush()

    def flush(self) -> None:
        """Store the pending rows in :attr:`tables`."""
        if self._pending == 0:
            return
        derived = self.projection.derived(self.state)
        writes = derived_writes(self._derived, derived)
        writes.update(diff(self._stored, self.state))  # history wins, as in the runner
        self.tables.write(self.projection.prunes(self._stored, self.state), writes)
        self.state = self._stored = trim(self.state)
        self._derived = derived
        self._pending = 0
