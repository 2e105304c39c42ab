"""Rows, their per-round results, medians, ratios and the printed table.

A side of a row is a callable that measures once and returns a number, a
:class:`Named` set of numbers (the first one is the side's figure, the
others are shown beside it), or a :class:`Noted` number with a remark.
"""

from __future__ import annotations

import inspect
import math
import statistics
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

SIDES = ("hublog", "raw", "peer")
NOT_YET = "not yet"


@dataclass(frozen=True)
class Failed:
    reason: str


@dataclass(frozen=True)
class Noted:
    value: float
    note: str


class Named(dict[str, float]):
    """Several figures of one side, the first being the one ratios use."""


Measure = Callable[[], Awaitable[Any] | Any]


@dataclass
class Row:
    label: str
    unit: str
    hublog: Measure | None
    raw: Measure | None = None
    peer: Measure | None = None
    present: bool = True  # False: the code it measures has not landed yet
    results: dict[str, list[Any]] = field(default_factory=dict)

    def sides(self) -> list[tuple[str, Measure]]:
        return [(s, m) for s in SIDES if (m := getattr(self, s)) is not None]

    async def measure(self, side: str, measure: Measure) -> None:
        """One measurement; a failure is kept (and told on stderr), not raised,
        so one broken figure — say, a migration landing mid-run — costs its
        cell, not the table."""
        try:
            value = measure()
            if inspect.isawaitable(value):
                value = await value
        except Exception as exc:  # noqa: BLE001 - reported in the table and on stderr
            value = Failed(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            print(f"  {self.label} / {side} failed: {value.reason}", file=sys.stderr)
        self.results.setdefault(side, []).append(value)


def median(values: list[Any]) -> Any:
    """The median of a side's rounds, figure by figure (failed rounds left out)."""
    values = [v for v in values if not isinstance(v, Failed)] or values[:1]
    first = values[0]
    if isinstance(first, Failed):
        return first
    if isinstance(first, Named):
        return Named({k: statistics.median(v[k] for v in values) for k in first})
    if isinstance(first, Noted):
        return Noted(statistics.median(v.value for v in values), values[-1].note)
    return statistics.median(values)


def figure(value: Any) -> float:
    if isinstance(value, Failed):
        return float("nan")
    if isinstance(value, Named):
        return next(iter(value.values()))
    if isinstance(value, Noted):
        return value.value
    return float(value)


def number(value: float, unit: str) -> str:
    if unit == "events/s":
        if value < 1000:  # "0.2k" would hide a 2x difference
            return f"{value:,.0f}"
        return f"{value / 1000:,.1f}k" if value < 100_000 else f"{value / 1000:,.0f}k"
    return f"{value:.2f}" if value < 10 else f"{value:,.1f}"


def cell(value: Any, unit: str) -> str:
    if isinstance(value, Failed):
        return f"failed ({value.reason[:80]})"
    if isinstance(value, Named):
        return ", ".join(f"{number(v, unit)} ({k})" for k, v in value.items())
    if isinstance(value, Noted):
        return f"{number(value.value, unit)} ({value.note})"
    return number(value, unit)


def ratio(ours: Any, theirs: Any) -> str:
    r = figure(ours) / figure(theirs)
    if math.isnan(r):  # a side failed
        return ""
    return f"{r:.2g}" if r < 0.1 else f"{r:.2f}"


def line(row: Row) -> str:
    if not row.present:
        return f"| {row.label} | {row.unit} | {NOT_YET} | | | | |"
    med = {side: median(values) for side, values in row.results.items()}
    cells = [cell(med[s], row.unit) if s in med else "—" for s in SIDES]
    ratios = [
        ratio(med["hublog"], med[s]) if s in med and "hublog" in med else ""
        for s in ("raw", "peer")
    ]
    return "| " + " | ".join([row.label, row.unit, *cells, *ratios]) + " |"


def render(rows: list[Row]) -> str:
    head = "| figure | unit | hublog | raw driver | eventsourcing | hublog/raw | hublog/peer |"
    rule = "|---|---|---:|---:|---:|---:|---:|"
    return "\n".join([head, rule, *(line(r) for r in rows)])
