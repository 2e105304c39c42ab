"""Verdicts kept in the repository, so a later run re-runs only survivors.

A whole part takes up to an hour here, and ``mutants/`` does not outlive the
machine; ``save`` writes each part's verdicts (mutant name -> mutmut exit
code) with the commit they were judged on to ``tests/mutation/verdicts/``.
``report`` and ``run --survivors`` read them beneath the verdicts of
``mutants/`` (those win).  A mutant's number depends only on its module's
source, so a module's saved verdicts are used only while its file is what it
was at that commit; those of a changed module are left out (a warning names
the file) and ``run --survivors`` re-runs all of its mutants, not the whole
part.
A killed verdict is kept as it was judged: tests are only ever added, so a
kill does not go stale the way a survival does.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .areas import PARTS

VERDICTS = Path(__file__).resolve().parent / "verdicts"


class StaleVerdicts(Exception):
    """Some of the part's sources changed since its verdicts were saved;
    ``kept`` holds the verdicts of the modules that did not."""

    def __init__(
        self, message: str, kept: dict[str, int | None] | None = None, changed: list[str] = ()
    ) -> None:
        super().__init__(message)
        self.kept = kept or {}
        self.changed = list(changed)

    def globs(self) -> list[str]:
        """mutmut name globs of the changed modules (all their mutants)."""
        return [
            path.removesuffix(".py").removesuffix("/__init__").replace("/", ".") + ".*"
            for path in self.changed
        ]


def source_paths(part: str) -> list[str]:
    """The files and folders (relative to the root) holding a part's modules."""
    paths = []
    for glob in PARTS[part]:
        module = glob.removesuffix(".*").removesuffix(".*")
        path = module.replace(".", "/")
        paths.append(path + "/" if glob.endswith(".*.*") else path + ".py")
    return paths


def head(root: Path) -> str:
    return _git(root, "rev-parse", "HEAD").strip()


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


def changed_since(root: Path, commit: str, part: str) -> list[str]:
    """The part's source files that differ between ``commit`` and the work tree."""
    return _git(root, "diff", "--name-only", commit, "--", *source_paths(part)).split()


def load(root: Path, part: str) -> dict[str, int | None]:
    """The part's saved verdicts ({} if none), less those of modules whose
    file changed since they were judged.  Raises StaleVerdicts naming those
    files, with the verdicts that still hold in ``kept``."""
    path = VERDICTS / f"{part}.json"
    if not path.exists():
        return {}
    saved = json.loads(path.read_text())
    changed = set(changed_since(root, saved["commit"], part))
    kept = {
        name: code for name, code in saved["verdicts"].items() if file_of(root, name) not in changed
    }
    if changed:
        raise StaleVerdicts(
            f"{path.name}: judged on {saved['commit'][:7]}, and since then {', '.join(sorted(changed))} "
            "changed (their mutant numbers no longer match): their mutants count as not run",
            kept,
            sorted(changed),
        )
    return kept


def file_of(root: Path, name: str) -> str:
    """The source file of a mutant (``adapters.sql.follow.heads.xǁKnownHeadsǁpast__mutmut_1``
    -> ``adapters/sql/follow/heads.py``): its module is all before the last dot."""
    module = name.rsplit(".", 1)[0].replace(".", "/")
    return f"{module}/__init__.py" if (root / module).is_dir() else f"{module}.py"


def save(root: Path, part: str, verdicts: dict[str, int | None], commit: str, date: str) -> int:
    """Write the part's verdicts judged on ``commit`` over its saved ones;
    the count saved.  Raises StaleVerdicts if the part's sources in ``root``
    are not those of ``commit``, or not those the saved ones were judged on."""
    changed = changed_since(root, commit, part)
    if changed:
        raise StaleVerdicts(
            f"the run was on {commit[:7]}, and since then {', '.join(changed)} changed"
        )
    try:
        merged = load(root, part)
    except StaleVerdicts as exc:  # the run judged the changed modules anew
        merged = exc.kept
    merged.update({name: code for name, code in verdicts.items() if code is not None})
    VERDICTS.mkdir(exist_ok=True)
    record = {"commit": commit, "date": date, "verdicts": dict(sorted(merged.items()))}
    (VERDICTS / f"{part}.json").write_text(json.dumps(record, indent=0, ensure_ascii=False) + "\n")
    return len(merged)
