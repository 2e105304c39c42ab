"""Terminal sparklines: a series as one line of block characters."""

from __future__ import annotations

from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = 60) -> str:
    """``values`` squeezed to at most ``width`` characters (means of equal
    slices), scaled between their minimum and maximum."""
    if not values:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [_mean(values[int(i * step) : int((i + 1) * step) or 1]) for i in range(width)]
    low, high = min(values), max(values)
    span = high - low
    if span == 0:
        return BLOCKS[0] * len(values)
    return "".join(
        BLOCKS[min(int((v - low) / span * len(BLOCKS)), len(BLOCKS) - 1)] for v in values
    )


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
