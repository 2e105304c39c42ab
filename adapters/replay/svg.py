"""Inline SVG charts for the incident report: stacked panels over one shared
time axis, with event marks drawn across all of them.  Plain strings, no
script: the report must open with a Content-Security-Policy that forbids
everything but inline styles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

WIDTH, LEFT, RIGHT = 900, 64, 16
PANEL, GAP, TOP, AXIS, LANE = 110, 18, 26, 22, 16
MAX_DOTS = 400  # beyond this many points a series is a line only


@dataclass(frozen=True)
class Series:
    title: str
    unit: str
    points: Sequence[tuple[datetime, float]]
    colour: str


@dataclass(frozen=True)
class Mark:
    at: datetime
    kind: str  # css class: health-healthy, health-unhealthy, recovered, lease-granted, …
    label: str
    lane: bool = False
    """Drawn as a tick in the lease lane under the panels, not across them."""


class Axis:
    """Time to x: the same for every chart of a report."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        self.span = max((end - start).total_seconds(), 1.0)

    def x(self, when: datetime) -> float:
        share = (when - self.start).total_seconds() / self.span
        return LEFT + min(max(share, 0.0), 1.0) * (WIDTH - LEFT - RIGHT)

    def ticks(self, count: int = 6) -> list[tuple[float, str]]:
        step = self.span / (count - 1)
        out = []
        for i in range(count):
            when = self.start.timestamp() + i * step
            label = datetime.fromtimestamp(when, self.start.tzinfo).strftime("%H:%M:%S")
            out.append((LEFT + i / (count - 1) * (WIDTH - LEFT - RIGHT), label))
        return out


def chart(axis: Axis, panels: Sequence[Series], marks: Sequence[Mark], title: str) -> str:
    height = TOP + len(panels) * (PANEL + GAP) + LANE + AXIS
    parts = [
        (
            f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
            f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        ),
        f"<title>{escape(title)}</title>",
    ]
    for i, series in enumerate(panels):
        parts.append(_panel(axis, series, TOP + i * (PANEL + GAP)))
    bottom = TOP + len(panels) * (PANEL + GAP)
    parts.append(_marks(axis, marks, TOP - 8, bottom - GAP, bottom))
    parts.append(_time_axis(axis, bottom + LANE))
    parts.append("</svg>")
    return "\n".join(parts)


def _panel(axis: Axis, series: Series, top: int) -> str:
    values = [v for _, v in series.points]
    high = max(values, default=0.0) * 1.1 or 1.0
    right = WIDTH - RIGHT

    def y(value: float) -> float:
        return top + PANEL - value / high * PANEL

    out = [
        (
            f'<g class="panel"><rect class="frame" x="{LEFT}" y="{top}" '
            f'width="{right - LEFT}" height="{PANEL}"/>'
        ),
        (
            f'<text class="panel-title" x="{LEFT + 6}" y="{top + 13}">'
            f"{escape(series.title)} ({escape(series.unit)})</text>"
        ),
    ]
    for value in (0.0, high / 2, high):
        out.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">'
            f"{_short(value)}</text>"
        )
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{right}" y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
        )
    coords = " ".join(f"{axis.x(t):.1f},{y(v):.1f}" for t, v in series.points)
    if coords:
        out.append(
            f'<polyline class="series" data-points="{len(series.points)}" '
            f'stroke="{series.colour}" points="{coords}"/>'
        )
    if len(series.points) <= MAX_DOTS:
        out += [
            f'<circle class="point" cx="{axis.x(t):.1f}" cy="{y(v):.1f}" r="1.8" '
            f'fill="{series.colour}"><title>{t:%H:%M:%S} {_short(v)} {escape(series.unit)}'
            "</title></circle>"
            for t, v in series.points
        ]
    if not series.points:
        out.append(
            f'<text class="empty" x="{(LEFT + right) / 2}" y="{top + PANEL / 2}" '
            'text-anchor="middle">no samples in this window</text>'
        )
    out.append("</g>")
    return "\n".join(out)


def _marks(axis: Axis, marks: Sequence[Mark], top: int, bottom: int, lane: int) -> str:
    out = ['<g class="marks">']
    for mark in marks:
        x = axis.x(mark.at)
        tip = f"<title>{mark.at:%H:%M:%S} {escape(mark.label)}</title>"
        if mark.lane:
            out.append(
                f'<line class="mark {mark.kind}" x1="{x:.1f}" x2="{x:.1f}" '
                f'y1="{lane + 2}" y2="{lane + LANE - 4}">{tip}</line>'
            )
            continue
        out.append(
            f'<line class="mark {mark.kind}" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}">'
            f"{tip}</line>"
        )
    out.append(f'<text class="tick" x="{LEFT - 6}" y="{lane + 11}" text-anchor="end">leases</text>')
    out.append("</g>")
    return "\n".join(out)


def _time_axis(axis: Axis, top: int) -> str:
    out = [
        f'<g class="axis"><line class="frame" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{top}" y2="{top}"/>'
    ]
    ticks = axis.ticks()
    for i, (x, label) in enumerate(ticks):
        anchor = "start" if i == 0 else "end" if i == len(ticks) - 1 else "middle"
        out.append(f'<line class="frame" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + 4}"/>')
        out.append(
            f'<text class="tick" x="{x:.1f}" y="{top + 16}" text-anchor="{anchor}">{label}</text>'
        )
    out.append("</g>")
    return "\n".join(out)


def _short(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    if value >= 10:
        return f"{value:.0f}"
    return f"{value:.1f}"
