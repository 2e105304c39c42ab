"""The hub-API tables: medians of each cell's rounds (``table.median``),
ratios (``table.ratio``) and Markdown."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .hub_rig import NAMES
from .hub_trips import Trips, spelled
from .table import Failed, Row, median, number, ratio


def markdown(head: list[str], lines: list[list[str]]) -> str:
    rule = ["---" if n < 2 else "---:" for n in range(len(head))]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in [head, rule, *lines])


def duration(us: Any) -> str:
    """A per-call median: µs below 1 ms, else ms."""
    if isinstance(us, Failed):
        return f"failed ({us.reason[:80]})"
    return f"{us:,.0f} µs" if us < 1000 else f"{number(us / 1000, 'ms')} ms"


def by_column(rows: dict[tuple[str, str], Row], columns: list[str], last: str) -> str:
    """One line per (backend, call): the median of each column, and the
    ratio of the last column to the first."""
    head = ["backend", "call", *columns, last]
    lines = []
    for (backend, op), row in rows.items():
        med = {c: median(row.results[c]) for c in columns if c in row.results}
        cells = [duration(med[c]) if c in med else "" for c in columns]
        r = ratio(med[columns[-1]], med[columns[0]]) if len(med) == len(columns) else ""
        lines.append([NAMES[backend], op, *cells, r])
    return markdown(head, lines)


def side_by_side(rows: dict[tuple[str, str], Row]) -> str:
    head = ["backend", "call", "hublog ops/s", "Gleitzeit ops/s", "hublog/Gleitzeit"]
    lines = []
    for (backend, op), row in rows.items():
        med = {s: median(v) for s, v in row.results.items()}
        cells = [_rate(med[s]) if s in med else "" for s in ("hublog", "gleitzeit")]
        r = ratio(med["hublog"], med["gleitzeit"]) if len(med) == 2 else ""
        lines.append([NAMES[backend], op, *cells, r])
    return markdown(head, lines)


def _rate(value: Any) -> str:
    if isinstance(value, Failed):
        return f"failed ({value.reason[:80]})"
    return number(value, "events/s")


ANSWERS = [  # (column, the answer counted, what it is counted over)
    ("load_instance: status as saved", "load: status as saved", "calls: load_instance"),
    ("… with `config`", "load: with config", "calls: load_instance"),
    ("… after the saves", "after saves: status as saved", "after saves: checks"),
    ("list_instances lists it", "list: has the instance", "calls: list_instances"),
    ("entries per one-sample window", "history: entries", "calls: get_metrics_history"),
    ("acquire_lock granted", "lock: granted", "calls: acquire+release"),
]


def answers(given: dict[tuple[str, str], Counter[str]]) -> str:
    """What the calls answered, summed over the rounds: right answers out of
    calls (the lock is always free when asked for), and the mean number of
    entries for a window around one sample (right: 1.00)."""
    head = ["backend", "side", *(a[0] for a in ANSWERS), "errors logged (swallowed)"]
    lines = []
    for (backend, side), got in given.items():
        cells = []
        for _, answer, over in ANSWERS:
            if answer == "history: entries":
                cells.append(f"{got[answer] / got[over]:.2f}" if got[over] else "")
            else:
                cells.append(f"{got[answer]}/{got[over]}")
        errors = str(got["errors logged"]) if side == "gleitzeit" else "— (raises)"
        lines.append([NAMES[backend], side, *cells, errors])
    return markdown(head, lines)


def trips(t: Trips) -> str:
    head = ["backend", "call"]
    for h in t.histories:
        head += [f"store calls, {h:,} events", f"read-model calls, {h:,}",
                 f"other tasks meanwhile, {h:,}"]  # fmt: skip
    lines = []
    for backend in t.backends:
        if backend in t.failed:
            lines.append([NAMES[backend], f"failed ({t.failed[backend][:80]})"])
            continue
        for op in t.counts[backend, t.histories[0]]:
            cells = [spelled(c) for h in t.histories for c in t.counts[backend, h][op]]
            lines.append([NAMES[backend], op, *cells])
    return markdown(head, lines)
