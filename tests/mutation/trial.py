"""One mutant, applied by hand: does a given test kill it?

A full run judges a part in tens of minutes; a test written against one
survivor wants an answer in seconds.  :func:`apply` takes the mutant's text
from the ``mutants/`` tree a run left (mutmut writes every variant of a
function there, named ``x_<function>__mutmut_<n>`` or
``xǁ<Class>ǁ<method>__mutmut_<n>``) and puts it in place of the original
function in a scratch copy of the sources; the tests then run in that copy,
with no trampoline and no mutmut in the way.
"""

from __future__ import annotations

import ast
import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

# What a scratch copy leaves out: the run's own tree, caches, VCS data.
_SKIP = shutil.ignore_patterns(
    "mutants", ".git", "__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache",
    ".ruff_cache", "*.egg-info", ".venv", "venv",
)  # fmt: skip
_NAME = re.compile(r"^(?P<module>.+?)\.(?P<function>x[_ǁ].+__mutmut_\d+)$")


class NoSuchMutant(LookupError):
    """The name does not match a mutant of the ``mutants/`` tree."""


@dataclass(frozen=True)
class Mutant:
    module: str  # dotted: projections.deciders.queue.rules
    function: str  # mutmut's: x_expire__mutmut_3, xǁQueueServiceǁ_ask__mutmut_1

    @classmethod
    def named(cls, name: str) -> Mutant:
        match = _NAME.match(name)
        if match is None:
            raise NoSuchMutant(f"not a mutmut mutant name: {name!r}")
        return cls(match["module"], match["function"])

    @property
    def path(self) -> Path:
        return Path(*self.module.split(".")).with_suffix(".py")

    @property
    def target(self) -> tuple[str | None, str]:
        """(class or None, function) of the original the mutant replaces."""
        stem = self.function.rsplit("__mutmut_", 1)[0]
        if stem.startswith("xǁ"):
            _, owner, method = stem.split("ǁ")
            return owner, method
        return None, stem.removeprefix("x_")


def copy_sources(root: Path, into: Path) -> Path:
    """A scratch copy of the repository at ``root`` (without its run data)."""
    shutil.copytree(root, into, ignore=_SKIP, symlinks=True)
    return into


def apply(mutant: Mutant, mutants: Path, sources: Path) -> None:
    """Replace the original of ``mutant`` in ``sources`` by its mutated text."""
    owner, name = mutant.target
    mutated = (mutants / mutant.path).read_text()
    variant = _find(ast.parse(mutated), owner, mutant.function)  # methods stay in their class
    if variant is None:
        raise NoSuchMutant(f"{mutant.function} is not in {mutants / mutant.path}")
    original_path = sources / mutant.path
    original = original_path.read_text()
    node = _find(ast.parse(original), owner, name)
    if node is None:
        raise NoSuchMutant(f"{owner + '.' if owner else ''}{name} is not in {original_path}")
    text = _segment(mutated, variant).replace(mutant.function, name, 1)
    lines = original.splitlines(keepends=True)
    indent = " " * node.col_offset
    body = textwrap.indent(textwrap.dedent(text), indent)
    # node.lineno is the def line (decorators, kept, come before it).
    lines[node.lineno - 1 : node.end_lineno] = [body if body.endswith("\n") else body + "\n"]
    original_path.write_text("".join(lines))


def _find(
    tree: ast.Module, owner: str | None, name: str
) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    scope: list[ast.stmt] = tree.body
    if owner is not None:
        classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == owner]
        if not classes:
            return None
        scope = classes[0].body
    for node in scope:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
    return None


def _segment(source: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The def (without decorators) through the end of its body, whole lines."""
    lines = source.splitlines(keepends=True)
    return "".join(lines[node.lineno - 1 : node.end_lineno])
