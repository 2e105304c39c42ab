"""``python -m tests.mutation run PART…`` / ``report`` / ``survivors PART`` / ``save PART…``.

``run`` hands a part's globs to ``mutmut run`` (from the repository root,
where ``[tool.mutmut]`` in pyproject.toml configures it); ``report`` reads
the verdicts mutmut stored under ``mutants/`` and prints one Markdown table
of kill rates per area and part; ``survivors`` lists a part's surviving
mutants, each with its diff, for the review docs/testing.md records;
``save`` keeps a part's verdicts in the repository (``saved.py``), beneath
which ``report`` and ``run --survivors`` read those of ``mutants/``.
``--root`` names the checkout whose ``mutants/`` to use (a clone the run
was made in), by default this one.
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import click

from . import saved, trial
from .areas import AREAS, PARTS, SCOPES, part_of
from .equivalent import EQUIVALENT

ROOT = Path(__file__).resolve().parents[2]

# mutmut's exit codes (mutmut.stats.status_by_exit_code), reduced to what a
# kill rate needs: a timeout is a kill (the mutant hung the tests).
KILLED = {1, 3, 36, 24, -24, 152, 255}
SURVIVED = {0}


@click.group()
@click.option(
    "--root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=ROOT,
    show_default=True,
    help="the checkout the run is made in (its mutants/)",
)
@click.pass_context
def main(ctx: click.Context, root: Path) -> None:
    """The mutation run, by area (docs/testing.md)."""
    ctx.obj = root.resolve()


@main.command()
@click.argument("parts", nargs=-1, required=True, type=click.Choice(sorted(PARTS)))
@click.option("--max-children", type=int, default=2, show_default=True)
@click.option(
    "--survivors",
    "only_survivors",
    is_flag=True,
    help="re-run only the part's mutants not killed last time (after adding tests)",
)
@click.pass_obj
def run(root: Path, parts: tuple[str, ...], max_children: int, only_survivors: bool) -> None:
    """Run mutmut over the mutants of PARTS, one part after another, each
    with only its area's tests (SCOPES).  Named mutants are always re-run,
    judged or not (mutmut skips judged ones only when given no names)."""
    for part in parts:
        click.echo(f"== {part}")
        names = _not_killed(root, part) if only_survivors else list(PARTS[part])
        if not names:
            click.echo("nothing to re-run")
            continue
        command = ["mutmut", "run", "--max-children", str(max_children), *names]
        scope = {"HUBLOG_MUTATION_SCOPE": ",".join(SCOPES[part])}
        code = subprocess.call(command, cwd=root, env={**os.environ, **scope})
        if code:
            sys.exit(code)


def _run_verdicts(root: Path) -> dict[str, int | None]:
    """The verdicts in ``root``'s mutants/ (None: not run there)."""
    verdicts: dict[str, int | None] = {}
    for meta in (root / "mutants").rglob("*.meta"):
        verdicts.update(json.loads(meta.read_text())["exit_code_by_key"])
    return verdicts


def _verdicts(root: Path) -> dict[str, int | None]:
    """The saved verdicts of every part (less those of changed modules, with
    a warning), with those judged in ``root``'s mutants/ over them."""
    verdicts: dict[str, int | None] = {}
    for part in PARTS:
        try:
            verdicts.update(saved.load(ROOT, part))
        except saved.StaleVerdicts as exc:
            verdicts.update(exc.kept)
            click.echo(f"warning: saved verdicts left out: {exc}", err=True)
    for name, code in _run_verdicts(root).items():
        if code is not None or name not in verdicts:
            verdicts[name] = code
    return verdicts


def _not_killed(root: Path, part: str) -> list[str]:
    """The part's mutants to re-run: those not killed, and every mutant of a
    module changed since its verdicts were saved (as a glob: mutants/ may
    not list them yet)."""
    try:
        saved.load(ROOT, part)
        changed: list[str] = []
    except saved.StaleVerdicts as exc:
        changed = exc.globs()
    return changed + sorted(
        name
        for name, code in _verdicts(root).items()
        if part_of(name) == part
        and name not in EQUIVALENT
        and code not in KILLED
        and not any(fnmatch.fnmatchcase(name, glob) for glob in changed)
    )


def _count(names: list[str], verdicts: dict[str, int | None]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for name in names:
        code = verdicts[name]
        if code is None:
            counts["not run"] += 1
        elif name in EQUIVALENT:
            counts["equivalent"] += 1
        elif code in KILLED:
            counts["killed"] += 1
        elif code in SURVIVED:
            counts["survived"] += 1
        else:  # no tests (5, 33), skipped, suspicious, segfault: not a kill
            counts["not killed (other)"] += 1
    return counts


def _row(label: str, counts: Counter[str]) -> str:
    judged = counts["killed"] + counts["survived"] + counts["not killed (other)"]
    rate = f"{100 * counts['killed'] / judged:.1f} %" if judged else "—"
    return (
        f"| {label} | {sum(counts.values())} | {counts['not run']} | {counts['equivalent']} "
        f"| {counts['killed']} | {counts['survived']} | {counts['not killed (other)']} | {rate} |"
    )


@main.command()
@click.pass_obj
def report(root: Path) -> None:
    """Kill rate of non-equivalent mutants, per area and part."""
    verdicts = _verdicts(root)
    by_part: dict[str, list[str]] = {part: [] for part in PARTS}
    for name in verdicts:
        part = part_of(name)
        if part is not None:
            by_part[part].append(name)
    click.echo(
        "| area / part | mutants | not run | equivalent | killed | survived "
        "| no test / other | kill rate |"
    )
    click.echo("|---|---:|---:|---:|---:|---:|---:|---:|")
    for area, parts in AREAS.items():
        names = [name for part in parts for name in by_part[part]]
        click.echo(_row(f"**{area}**", _count(names, verdicts)))
        if len(parts) > 1:
            for part in parts:
                click.echo(_row(f"  {part}", _count(by_part[part], verdicts)))


@main.command()
@click.argument("part", type=click.Choice(sorted(PARTS)))
@click.option("--diff/--no-diff", default=True, help="show each mutant's diff")
@click.pass_obj
def survivors(root: Path, part: str, diff: bool) -> None:
    """The surviving, non-equivalent mutants of PART."""
    verdicts = _verdicts(root)
    for name, code in sorted(verdicts.items()):
        if part_of(name) != part or name in EQUIVALENT or code in KILLED or code is None:
            continue
        click.echo(f"## {name} (exit code {code})")
        if diff:
            shown = subprocess.run(
                ["mutmut", "show", name], check=False, cwd=root, capture_output=True, text=True
            )
            click.echo(shown.stdout)


@main.command()
@click.argument("parts", nargs=-1, required=True, type=click.Choice(sorted(PARTS)))
@click.pass_obj
def save(root: Path, parts: tuple[str, ...]) -> None:
    """Keep the verdicts judged in --root's mutants/ for PARTS in
    tests/mutation/verdicts/ (merged with those already saved)."""
    judged = _run_verdicts(root)
    commit = saved.head(root)
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    for part in parts:
        mine = {name: code for name, code in judged.items() if part_of(name) == part}
        try:
            count = saved.save(ROOT, part, mine, commit, date)
        except saved.StaleVerdicts as exc:
            raise click.ClickException(f"{part}: {exc}") from exc
        click.echo(f"{part}: {count} verdicts saved (judged on {commit[:7]})")


@main.command(name="try", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED, required=True)
@click.option(
    "--mutants",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=ROOT / "mutants",
    show_default=True,
    help="the mutants/ tree of a run (of a clone at the same commit)",
)
def try_(name: str, pytest_args: tuple[str, ...], mutants: Path) -> None:
    """Apply mutant NAME to a scratch copy of the sources and run pytest
    PYTEST_ARGS there: "killed" (exit 0) if the tests fail, "survived"
    (exit 1) if they pass.  For checking, in seconds, that a new test
    kills the survivor it was written for."""
    try:
        mutant = trial.Mutant.named(name)
        with tempfile.TemporaryDirectory(prefix="hublog-try-") as scratch:
            sources = trial.copy_sources(ROOT, Path(scratch) / "src")
            trial.apply(mutant, mutants, sources)
            command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-x"]
            code = subprocess.call([*command, *pytest_args], cwd=sources)
    except trial.NoSuchMutant as exc:
        raise click.UsageError(str(exc)) from exc
    if code in (0, 5):  # 5: no tests ran: nothing can have killed it
        click.echo(f"survived: {name}" + (" (no tests collected)" if code == 5 else ""))
        sys.exit(1)
    click.echo(f"killed: {name} (pytest exit code {code})")


if __name__ == "__main__":
    main()
