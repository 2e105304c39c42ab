"""The saved verdicts of the mutation run (tests/mutation/saved.py): each
part's sources are found on disk, so the staleness check compares the
right files, and a saved file holds its own part's mutants only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.mutation import saved
from tests.mutation.areas import PARTS, part_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("part", sorted(PARTS))
def test_every_part_s_sources_are_on_disk(part: str) -> None:
    paths = saved.source_paths(part)
    assert paths
    missing = [path for path in paths if not (ROOT / path).exists()]
    assert missing == []


def test_a_package_part_names_its_folder_and_a_module_part_its_file() -> None:
    assert saved.source_paths("projections-hub") == [
        "projections/hub/",
        "projections/health.py",
        "projections/advisor.py",
    ]


@pytest.mark.parametrize("path", sorted(saved.VERDICTS.glob("*.json")), ids=lambda p: p.stem)
def test_a_saved_file_holds_its_own_part_s_verdicts(path: Path) -> None:
    record = json.loads(path.read_text())
    assert len(record["commit"]) == 40
    names = record["verdicts"]
    assert names
    assert {part_of(name) for name in names} == {path.stem}
    assert all(isinstance(code, int) for code in names.values())


def test_a_mutant_s_file_is_its_module_s() -> None:
    assert saved.file_of(ROOT, "adapters.sql.follow.heads.xǁKnownHeadsǁpast__mutmut_1") == (
        "adapters/sql/follow/heads.py"
    )
    assert saved.file_of(ROOT, "projections.hub.instances.x_fold__mutmut_3") == (
        "projections/hub/instances.py"
    )
    assert saved.file_of(ROOT, "projections.hub.x_name__mutmut_2") == "projections/hub/__init__.py"


def test_stale_verdicts_name_the_changed_modules_as_globs_to_re_run() -> None:
    stale = saved.StaleVerdicts(
        "changed", {}, ["adapters/sql/follow.py", "projections/hub/__init__.py"]
    )
    assert stale.globs() == ["adapters.sql.follow.*", "projections.hub.*"]
