"""docs/projections.md cannot drift: its Python example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "projections.md"


def test_the_projections_doc_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    examples = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert examples, "docs/projections.md has no Python example"

    for code in examples:
        exec(compile(code, str(DOC), "exec"), {"__name__": "doc"})  # noqa: S102 - our own doc

    assert (tmp_path / "projections-example.db").exists()
