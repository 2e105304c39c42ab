"""docs/leases.md's example runs, so it cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[4] / "docs" / "leases.md"


def test_the_leases_doc_example_runs() -> None:
    [example] = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    exec(compile(example, str(DOC), "exec"), {"__name__": "doc"})  # noqa: S102 - our own doc
