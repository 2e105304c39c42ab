"""``hublog spill verify|drain PATH``: check and drain a recorder's spill file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from eventstore.recorder import SpillFile, drain, scan

from .. import open_store
from .common import Run, options

PATH = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def spill() -> None:
    """A recorder's spill file: what it holds, and draining it into a log."""


@spill.command("verify")
@click.argument("path", type=PATH)
@options(hub=False)
async def verify_command(run: Run, path: Path) -> None:
    """Read a spill file without changing it: records, events per hub and
    stream, and where damage (a torn or corrupt record) begins.  Exits 1 on
    damage.

    Example:  hublog spill verify /var/lib/gleitzeit/spill/attach-ollama-pool.spill
    """
    found = scan(path)
    per_hub: Counter[str] = Counter()
    for _, batch in found.records:
        per_hub[batch.hub_id] += len(batch.events)
    if run.as_json:
        from .common import echo_json

        damage = found.damage
        echo_json(
            {
                "path": str(path),
                "records": len(found.records),
                "events": found.events,
                "by_hub": dict(per_hub),
                "valid_bytes": found.end,
                "damage": None if damage is None else damage.__dict__,
            }
        )
    else:
        click.echo(
            f"{path}: {len(found.records)} records, {found.events} events, {found.end} bytes valid"
        )
        for hub, n in sorted(per_hub.items()):
            click.echo(f"  {hub}: {n} events")
        if found.damage is not None:
            click.echo(f"  {found.damage}", err=True)
    if found.damage is not None:
        raise click.exceptions.Exit(1)


@spill.command("drain")
@click.argument("path", type=PATH)
@options(json=False, hub=False)
async def drain_command(run: Run, path: Path) -> None:
    """Append a spill file's events to the log at --url, in order, then empty
    it.  A file that is not a spill file is refused and left as it was.
    Damage is cut first (kept in PATH.damaged-OFFSET), what precedes it is
    drained, and the exit status is 1, as for verify; a drain that stops
    half-way may be run again: nothing is doubled.  Do not run it on the file
    of a recorder that is running (it is locked).

    Example:  hublog spill drain ./spill/node-a.spill --url postgresql://gleitzeit@db/gleitzeit
    """
    async with open_store(run.url) as store:  # first: a wrong --url leaves the file as it was
        spill_file = await _open(path)
        try:
            result = await drain(store, spill_file)
        finally:
            spill_file.close()
    click.echo(f"drained {result.events} events in {result.batches} records into {run.where}")
    for hub, n in sorted(result.by_hub.items()):
        click.echo(f"  {hub}: {n} events")
    for line in result.rejected:
        click.echo(f"  refused: {line}", err=True)
    damage = spill_file.damage
    if damage is not None:
        click.echo(
            f"{path}: {damage}; the damaged bytes are kept in {path.name}.damaged-{damage.offset}",
            err=True,
        )
    if result.rejected or damage is not None:
        raise click.exceptions.Exit(1)


async def _open(path: Path) -> SpillFile:
    import anyio

    return await anyio.to_thread.run_sync(lambda: SpillFile(path, create=False))
