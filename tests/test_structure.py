"""The structure is enforced, not described: the import-linter contracts of
``pyproject.toml`` and the type checker pass on the tree, and each fails on
a tree with a deliberate violation (so a broken check cannot pass quietly)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("eventstore", "projections", "adapters")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    code = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def mypy(cwd: Path, cache_dir: Path) -> subprocess.CompletedProcess[str]:
    # Incremental, but never on a cache from outside this session: the cache
    # is a directory the session creates (see ``checked_tree``), not the
    # tree's .mypy_cache.
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--incremental", f"--cache-dir={cache_dir}"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def copy_of_tree(directory: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, directory / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", directory / "pyproject.toml")
    return directory


@dataclass(frozen=True)
class TypeCheck:
    result: subprocess.CompletedProcess[str]
    cache_dir: Path


@pytest.fixture(scope="session")
def checked_tree(tmp_path_factory: pytest.TempPathFactory) -> TypeCheck:
    """mypy on the real tree, once per session, on a cache that starts empty.

    An empty cache makes every module stale, so this run checks the whole
    tree just as ``--no-incremental`` would; it only also leaves the cache
    behind.  The deliberate-violation test reuses (a copy of) that cache:
    mypy takes a cached module whose path differs but whose source hash
    matches, so only the changed module and its dependents are re-checked
    there (about 1 s instead of a full run)."""
    cache_dir = tmp_path_factory.mktemp("mypy-cache")
    return TypeCheck(mypy(ROOT, cache_dir), cache_dir)


def test_the_import_contracts_hold() -> None:
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_backend_importing_another_breaks_the_contracts(tmp_path: Path) -> None:
    tree = copy_of_tree(tmp_path)
    with (tree / "adapters" / "redis" / "store.py").open("a") as module:
        module.write("\nimport adapters.sql  # a deliberate violation\n")

    result = lint_imports(tree)

    assert result.returncode != 0
    assert "backend packages never import each other BROKEN" in result.stdout


def test_the_replay_library_importing_click_breaks_the_contracts(tmp_path: Path) -> None:
    tree = copy_of_tree(tmp_path)
    with (tree / "adapters" / "replay" / "lines.py").open("a") as module:
        module.write("\nimport click  # a deliberate violation\n")

    result = lint_imports(tree)

    assert result.returncode != 0
    assert "never imports click BROKEN" in result.stdout


def test_a_fold_importing_the_write_side_breaks_the_contracts(tmp_path: Path) -> None:
    tree = copy_of_tree(tmp_path)
    with (tree / "projections" / "health.py").open("a") as module:
        module.write("\nimport projections.deciders.loop  # a deliberate violation\n")

    result = lint_imports(tree)

    assert result.returncode != 0
    assert "the read side never imports the write side BROKEN" in result.stdout


def test_an_import_cycle_in_adapters_breaks_the_contracts(tmp_path: Path) -> None:
    tree = copy_of_tree(tmp_path)
    with (tree / "adapters" / "hub" / "convert.py").open("a") as module:
        module.write("\nimport adapters.hub.adapter  # a deliberate violation: adapter imports convert\n")

    result = lint_imports(tree)

    assert result.returncode != 0
    assert "no import cycle anywhere BROKEN" in result.stdout
    assert "No cycles are allowed in adapters.hub." in result.stdout


def test_the_type_checker_passes(checked_tree: TypeCheck) -> None:
    result = checked_tree.result

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_type_checker_catches_a_wrong_argument_type(
    tmp_path: Path, checked_tree: TypeCheck
) -> None:
    tree = copy_of_tree(tmp_path / "tree")
    with (tree / "adapters" / "stores.py").open("a") as module:
        module.write("\n\ndef _wrong() -> None:\n    create_store(42)\n")
    # A copy, so the session's cache stays as the run on the real tree left it.
    cache_dir = shutil.copytree(checked_tree.cache_dir, tmp_path / "mypy-cache")

    result = mypy(tree, cache_dir)

    assert result.returncode != 0
    assert 'Argument 1 to "create_store" has incompatible type "int"' in result.stdout
