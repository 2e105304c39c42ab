"""From a read-model state to rows and back: what a runner stores.

A stored read model is rows ``(table, key) -> Struct``: the ``meta`` row
(table ``meta``, key ``""``), every head and history table entry, and the
projection's derived rows.  This module finds the tables of a state type,
computes what changed between two states, and keeps rows in memory
(:class:`Tables`), for the memory backend and for folding without storage.
"""

from __future__ import annotations

import bisect
import functools
import typing
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import msgspec
from msgspec.structs import replace

from .readmodel import Projection, ReadModel

R = TypeVar("R", bound=ReadModel)

META = "meta"

Row = Any
Writes = dict[tuple[str, str], Row | None]
"""Rows to put (a Struct) or delete (None), by (table, key)."""
Range = tuple[str, str, str]
"""Keys ``start <= key < stop`` of one table: ``(table, start, stop)``."""


@functools.cache
def table_types(state_type: type[ReadModel]) -> dict[str, type]:
    """``{table: row type}`` of a read-model class (every field but ``meta``)."""
    result = {}
    for field in msgspec.structs.fields(state_type):
        if field.name == META:
            continue
        if typing.get_origin(field.type) is not dict:
            raise TypeError(f"{state_type.__name__}.{field.name} is not a table (dict[str, Row])")
        result[field.name] = typing.get_args(field.type)[1]
    return result


@functools.cache
def meta_type(state_type: type[ReadModel]) -> type:
    return next(f.type for f in msgspec.structs.fields(state_type) if f.name == META)


def history_tables(state_type: type[ReadModel]) -> tuple[str, ...]:
    return tuple(t for t in table_types(state_type) if t not in state_type.HEAD)


def trim(state: R) -> R:
    """The state without its history rows (a runner has stored them)."""
    emptied: dict[str, dict[str, Any]] = {
        t: {} for t in history_tables(type(state)) if getattr(state, t)
    }
    return replace(state, **emptied) if emptied else state


def row_writes(before: ReadModel, after: ReadModel) -> Writes:
    """The row writes that turn the stored ``before`` (trimmed) into ``after``.

    Head tables are compared entry by entry (by identity: the folds replace
    what they change and share the rest); history rows in ``after`` are new.
    """
    writes: Writes = {}
    if after.meta != before.meta:
        writes[(META, "")] = after.meta
    for table in type(after).HEAD:
        old, new = getattr(before, table), getattr(after, table)
        if old is new:
            continue
        for key, row in new.items():
            if old.get(key) is not row:
                writes[(table, key)] = row
        for key in old.keys() - new.keys():
            writes[(table, key)] = None
    for table in history_tables(type(after)):
        for key, row in getattr(after, table).items():
            writes[(table, key)] = row
    return writes


def derived_writes(
    old: Mapping[str, Mapping[str, Row]], new: Mapping[str, Mapping[str, Row]]
) -> Writes:
    """Writes that turn the derived rows ``old`` into ``new``."""
    writes: Writes = {}
    for table in old.keys() | new.keys():
        before, after = old.get(table, {}), new.get(table, {})
        for key, row in after.items():
            if before.get(key) != row:
                writes[(table, key)] = row
        for key in before.keys() - after.keys():
            writes[(table, key)] = None
    return writes


def rows_of(projection: Projection[Any], state: ReadModel) -> dict[str, dict[str, Row]]:
    """Every row of a state folded all at once: what storage would hold."""
    result: dict[str, dict[str, Row]] = {META: {"": state.meta}}
    for table in table_types(type(state)):
        if getattr(state, table):
            result[table] = dict(getattr(state, table))
    for table, rows in projection.derived(state).items():
        if rows:
            result.setdefault(table, {}).update(rows)
    return result


def from_rows(
    state_type: type[ReadModel], meta: Any, head: Mapping[str, Mapping[str, Row]]
) -> ReadModel:
    """A (trimmed) state from its stored meta row and head tables."""
    fields: dict[str, Any] = {t: dict(head.get(t, {})) for t in state_type.HEAD}
    if meta is not None:
        fields[META] = meta
    return state_type(**fields)


class Tables:
    """Rows in memory, by table then key, with sorted range reads and deletes."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, Row]] = {}
        self._sorted: dict[str, list[str]] = {}  # sorted keys, rebuilt lazily

    def write(self, ranges: Iterable[Range], writes: Mapping[tuple[str, str], Row | None]) -> None:
        """Delete the ranges, then apply the writes (the order every backend uses)."""
        for table, start, stop in ranges:
            for key in self.keys(table, start, stop):
                del self._rows[table][key]
            self._sorted.pop(table, None)
        for (table, key), row in writes.items():
            rows = self._rows.setdefault(table, {})
            if row is None:
                if rows.pop(key, None) is not None:
                    self._sorted.pop(table, None)
            else:
                if key not in rows:
                    self._sorted.pop(table, None)
                rows[key] = row

    def keys(self, table: str, start: str | None = None, stop: str | None = None) -> list[str]:
        """Keys of ``table`` with ``start <= key < stop``, in order."""
        ordered = self._sorted.get(table)
        if ordered is None:
            ordered = self._sorted[table] = sorted(self._rows.get(table, {}))
        low = 0 if start is None else bisect.bisect_left(ordered, start)
        high = len(ordered) if stop is None else bisect.bisect_left(ordered, stop)
        return ordered[low:high]

    def get(self, table: str, key: str) -> Row | None:
        return self._rows.get(table, {}).get(key)

    def scan(
        self, table: str, start: str | None = None, stop: str | None = None
    ) -> list[tuple[str, Row]]:
        rows = self._rows.get(table, {})
        return [(key, rows[key]) for key in self.keys(table, start, stop)]

    def table_names(self) -> list[str]:
        return sorted(t for t, rows in self._rows.items() if rows)

    def clear(self) -> None:
        self._rows.clear()
        self._sorted.clear()

    def as_dict(self) -> dict[str, dict[str, Row]]:
        return {t: dict(rows) for t, rows in self._rows.items() if rows}
