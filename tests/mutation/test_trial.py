"""``python -m tests.mutation try``: a mutant's text replaces exactly its
original (function or method, decorators kept), nothing else."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.mutation.trial import Mutant, NoSuchMutant, apply

ORIGINAL = textwrap.dedent(
    """\
    import functools


    def below(a, b):
        return a < b


    class Gate:
        @functools.cache
        def open(self, n):
            return n > 0

        def shut(self):
            return True
    """
)

# What mutmut writes: the original under its trampoline name, and variants.
MUTATED = textwrap.dedent(
    """\
    def x_below__mutmut_orig(a, b):
        return a < b


    def x_below__mutmut_1(a, b):
        return a <= b


    class Gate:
        def xǁGateǁopen__mutmut_2(self, n):
            return n > 1
    """
)


@pytest.fixture
def trees(tmp_path: Path) -> tuple[Path, Path]:
    mutants, sources = tmp_path / "mutants", tmp_path / "src"
    for root, text in ((mutants, MUTATED), (sources, ORIGINAL)):
        (root / "pkg").mkdir(parents=True)
        (root / "pkg" / "gate.py").write_text(text)
    return mutants, sources


def test_a_function_mutant_replaces_only_that_function(trees: tuple[Path, Path]) -> None:
    mutants, sources = trees
    apply(Mutant.named("pkg.gate.x_below__mutmut_1"), mutants, sources)
    assert (sources / "pkg" / "gate.py").read_text() == ORIGINAL.replace("a < b", "a <= b")


def test_a_method_mutant_keeps_the_decorator_and_the_indent(trees: tuple[Path, Path]) -> None:
    mutants, sources = trees
    apply(Mutant.named("pkg.gate.xǁGateǁopen__mutmut_2"), mutants, sources)
    assert (sources / "pkg" / "gate.py").read_text() == ORIGINAL.replace("n > 0", "n > 1")


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("pkg.gate.below", "not a mutmut mutant name"),
        ("pkg.gate.x_below__mutmut_9", "x_below__mutmut_9 is not in"),
        ("pkg.gate.xǁGateǁshut__mutmut_1", "xǁGateǁshut__mutmut_1 is not in"),
    ],
)
def test_a_name_that_is_not_a_mutant_there_is_refused(
    trees: tuple[Path, Path], name: str, says: str
) -> None:
    mutants, sources = trees
    with pytest.raises(NoSuchMutant, match=says):
        apply(Mutant.named(name), mutants, sources)
    assert (sources / "pkg" / "gate.py").read_text() == ORIGINAL
