"""Folding without storage: all at once (the reference every stored read
model must equal), and batch by batch into rows, as runners store them."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Sequence
from typing import Any, TypeVar

from msgspec.structs import replace

from eventstore.envelope import RecordedEvent

from .keys import SEP
from .readmodel import Projection, ReadModel
from .tables import Range, Tables, Writes, derived_writes, history_tables, row_writes, rows_of

S = TypeVar("S", bound=ReadModel)

DRAIN_EVERY = 64
"""Events folded before a batch moves its history rows out of the state: a
fold copies a history table on every write, so it must stay small."""


def fold(projection: Projection[S], events: Iterable[RecordedEvent], state: S | None = None) -> S:
    """``apply`` over ``events``: the whole read model, history included, in
    one state.  The copies grow with the history: for big logs use
    :func:`fold_batch` or :class:`Folder`."""
    result = projection.initial() if state is None else state
    for event in events:
        result = projection.apply(result, event)
    return result


def rows(projection: Projection[Any], state: ReadModel) -> dict[str, dict[str, Any]]:
    """The rows a stored read model of ``state`` holds (see ``tables.rows_of``)."""
    return rows_of(projection, state)


class _History:
    """The history rows a batch has moved out of its state so far, with the
    least key of each (table, entity).

    Expiry prunes the range of one entity's keys below a time on every
    clock minute; rows that old are rarely in the batch, and the least key
    says so without a scan of every row (once per range, that scan made a
    batch's fold quadratic)."""

    def __init__(self) -> None:
        self.rows: Writes = {}
        self._least: dict[str, dict[str, str]] = {}  # table -> entity -> least key

    def put_all(self, table: str, rows: dict[str, Any]) -> None:
        least = self._least.setdefault(table, {})
        for key, row in rows.items():
            self.rows[(table, key)] = row
            entity = key.partition(SEP)[0]
            known = least.get(entity)
            if known is None or key < known:
                least[entity] = key

    def drop(self, table: str, start: str, stop: str) -> None:
        """Delete the rows of ``table`` with ``start <= key < stop``."""
        entity = start[: -len(SEP)]
        # Every key in [E{, E{X) begins with E{, so its entity is E (an
        # entity holds no SEP): its least key decides.
        if start.endswith(SEP) and SEP not in entity and stop.startswith(start):
            least = self._least.get(table, {}).get(entity)
            if least is None or least >= stop:
                return
        doomed = [k for k in self.rows if k[0] == table and start <= k[1] < stop]
        for k in doomed:
            del self.rows[k]
        if doomed:
            self._least.pop(table, None)
            self.put_all(table, {k: row for (t, k), row in self.rows.items() if t == table})


class Batch:
    """One batch folded: the trimmed state after it, and what storing it takes."""

    def __init__(self, state: ReadModel, writes: Writes, ranges: list[Range]) -> None:
        self.state = state
        self.writes = writes
        self.ranges = ranges


def fold_batch(
    projection: Projection[Any],
    before: ReadModel,
    events: Sequence[RecordedEvent],
    derived_before: dict[str, dict[str, Any]],
) -> tuple[Batch, dict[str, dict[str, Any]]]:
    """Fold ``events`` on the stored (trimmed) ``before``: the writes and
    range deletes that store the result, and its derived rows."""
    history = _History()
    ranges: dict[tuple[str, str], str] = {}
    state = before
    tables = history_tables(type(before))
    for i in range(0, len(events), DRAIN_EVERY):
        previous = state
        state = projection.apply_all(state, events[i : i + DRAIN_EVERY])
        # rows moved out earlier in this batch expire like stored ones
        for table, start, stop in projection.prunes(previous, state):
            ranges[(table, start)] = stop
            history.drop(table, start, stop)
        emptied: dict[str, dict[str, Any]] = {}
        for table in tables:
            if rows := getattr(state, table):
                history.put_all(table, rows)
                emptied[table] = {}
        if emptied:
            state = replace(state, **emptied)  # trim(state), with the tables known
    derived = projection.derived(state)
    # A bucket that closed leaves the derived rows and enters a history table
    # under the same key: the history row wins.
    writes = derived_writes(derived_before, derived)
    writes.update(history.rows)
    writes.update(row_writes(before, state))
    return Batch(state, writes, [(t, start, stop) for (t, start), stop in ranges.items()]), derived


class Folder:
    """Folds events into rows in memory, a batch at a time, exactly as a
    runner stores them: ``folder.tables`` then holds what a stored read
    model would hold."""

    def __init__(self, projection: Projection[Any], *, every: int = 500) -> None:
        self.projection = projection
        self.every = every
        self.tables = Tables()
        self.state: ReadModel = projection.initial()
        self._derived: dict[str, dict[str, Any]] = {}
        self._pending: list[RecordedEvent] = []

    def add(self, event: RecordedEvent) -> None:
        self._pending.append(event)
        if len(self._pending) >= self.every:
            self.flush()

    async def add_all(self, events: AsyncIterable[RecordedEvent]) -> None:
        async for event in events:
            self.add(event)
        self.flush()

    def flush(self) -> None:
        """Store the pending events' rows in :attr:`tables`."""
        if not self._pending:
            return
        batch, self._derived = fold_batch(self.projection, self.state, self._pending, self._derived)
        self.tables.write(batch.ranges, batch.writes)
        self.state = batch.state
        self._pending = []
