"""The structure is enforced, not described: the import-linter contracts of
``pyproject.toml`` and the type checker pass on the tree, and each fails on
a tree with a deliberate violation (so a broken check cannot pass quietly)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

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


def mypy(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir=/dev/null"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def copy_of_tree(tmp_path: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


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


def test_the_type_checker_passes() -> None:
    result = mypy(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_type_checker_catches_a_wrong_argument_type(tmp_path: Path) -> None:
    tree = copy_of_tree(tmp_path)
    with (tree / "adapters" / "stores.py").open("a") as module:
        module.write("\n\ndef _wrong() -> None:\n    create_store(42)\n")

    result = mypy(tree)

    assert result.returncode != 0
    assert 'Argument 1 to "create_store" has incompatible type "int"' in result.stdout
