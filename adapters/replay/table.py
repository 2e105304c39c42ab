"""Aligned text tables for the terminal: columns padded to their widest cell,
numbers right-aligned; an optional ``style`` hook (the CLI colours cells
with it on a terminal) sees each cell after padding; an optional ``width``
cuts the last column so that a line fits (the CLI's terminal width).

A listing that streams (``hublog events --follow``) fixes its layout from
the first rows with :class:`Layout` and prints the rest to it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .lines import cut

Style = Callable[[str, str], str]
"""``style(header, padded cell) -> text``."""


class Layout:
    def __init__(self, headers: Sequence[str], sample: Sequence[Sequence[object]]) -> None:
        self.headers = list(headers)
        cells = [cells_of(row) for row in sample]
        self.widths = [len(h) for h in headers]
        for row in cells:
            for i, cell in enumerate(row[: len(self.widths)]):
                self.widths[i] = max(self.widths[i], len(cell))
        self.numeric = [
            bool(cells) and all(_is_number(r[i]) for r in cells if i < len(r))
            for i in range(len(self.headers))
        ]

    def header(self) -> str:
        return "  ".join(
            h.ljust(w) for h, w in zip(self.headers, self.widths, strict=True)
        ).rstrip()

    def line(
        self, row: Sequence[object], style: Style | None = None, width: int | None = None
    ) -> str:
        cells = cells_of(row)
        if width is not None and cells:
            before = sum(w + 2 for w in self.widths[: len(cells) - 1])
            cells[-1] = cut(cells[-1], max(width - before, 1))
        out = []
        for i, cell in enumerate(cells):
            width = self.widths[i] if i < len(self.widths) else 0
            if i < len(self.numeric) and self.numeric[i]:
                padded = cell.rjust(width)
            else:
                padded = cell if i == len(cells) - 1 else cell.ljust(width)
            header = self.headers[i] if i < len(self.headers) else ""
            out.append(style(header, padded) if style else padded)
        return "  ".join(out).rstrip()


def render(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    style: Style | None = None,
    width: int | None = None,
) -> list[str]:
    layout = Layout(headers, rows)
    return [layout.header(), *(layout.line(row, style, width) for row in rows)]


def cells_of(row: Sequence[object]) -> list[str]:
    return [_text(c) for c in row]


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def _is_number(text: str) -> bool:
    return text.replace(",", "").replace(".", "", 1).lstrip("-").isdigit() or text == "-"
