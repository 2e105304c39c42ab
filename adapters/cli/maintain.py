"""Commands that check or rebuild: verify, rebuild, db, demo."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from eventstore import EventStoreError

from .. import open_store, readmodel_store_for, urls
from ..replay import verify as verifying
from ..replay.coverage import coverage
from ..replay.jsonl import RAW_CODEC
from ..replay.lines import text_line
from ..replay.rebuild import Progress, choose, rebuild_one
from ..replay.scope import hubs_in_scope
from ..stores import parse
from .common import Run, echo_json, guarded, options, paint

PLAIN_EVERY = 5.0  # seconds between progress lines when not on a terminal


@click.command("verify")
@click.option("--projections", is_flag=True, help="Also compare read models with a rebuild.")
@options()
async def verify_command(run: Run, projections: bool) -> None:
    """Check a log's integrity: positions, stream versions, ids, payloads;
    with --projections also the read models.  Exits 1 on corruption.

    Example:  hublog verify --hub demo-pool --projections
    """
    findings: list[verifying.Finding] = []
    async with (
        open_store(run.url, codec=RAW_CODEC, read_only=True) as raw,
        readmodel_store_for(raw) as kept,
    ):
        hubs = await hubs_in_scope(raw, run.hub, run.where)
        for hub in hubs:
            held = await coverage(raw, kept, hub)
            count, found = await verifying.verify_hub(raw, hub, held)
            findings += found
            if not run.as_json:
                click.echo(f"hub {hub}: {count} events read, {len(found)} findings", err=True)
    if projections:
        async with (
            open_store(run.url, read_only=True) as store,
            readmodel_store_for(store) as storage,
        ):
            for hub in hubs:
                findings += await verifying.verify_projections(store, storage, hub)
    for finding in findings:
        echo_json(finding.as_json()) if run.as_json else click.echo(
            paint("severity", finding.line())
        )
    errors = [f for f in findings if f.severity == verifying.ERROR]
    if errors:
        raise click.ClickException(f"{len(errors)} corruption finding(s) in {run.where}")
    if not run.as_json:
        click.echo(f"ok: {len(hubs)} hub(s), no corruption", err=True)


@click.command("rebuild")
@click.option(
    "--projection", "names", multiple=True, help="hub, health or metrics (repeatable; default all)."
)
@options(json=False)
async def rebuild_command(run: Run, names: tuple[str, ...]) -> None:
    """Drop read models and fold them again from the log, with progress
    (events/s, ETA) on a terminal and plain log lines otherwise.

    Example:  hublog rebuild --hub demo-pool --projection hub
    """
    chosen = choose(names)
    report = _reporter(sys.stderr.isatty())
    async with open_store(run.url, create=False) as store, readmodel_store_for(store) as storage:
        for hub in await hubs_in_scope(store, run.hub, run.where):
            for projection in chosen:
                done = await rebuild_one(store, storage, projection, hub, report)
                click.echo(("\r" if sys.stderr.isatty() else "") + done.line() + " done", err=True)


def _reporter(terminal: bool) -> Callable[[Progress], None]:
    last = [0.0]

    def report(progress: Progress) -> None:
        now = time.monotonic()
        if terminal:
            click.echo("\r" + progress.line() + "\x1b[K", nl=False, err=True)
        elif now - last[0] >= PLAIN_EVERY:
            click.echo(progress.line(), err=True)
            last[0] = now

    return report


@click.command()
@click.option(
    "--minutes",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Simulated minutes.",
)
@click.option("--seed", default=7, show_default=True, help="Random seed of the simulation.")
@options(json=False, hub=False)
async def demo(run: Run, minutes: int, seed: int) -> None:
    """Simulate two processes sharing an Ollama pool through an incident
    (load ramp, failures, lease contention, a backend outage, the advisor)
    and record it in the log on its own time axis.

    Example:  hublog demo --minutes 30
    """
    from ..replay.demo import run_demo

    async with open_store(run.url) as store:
        click.echo(f"simulating {minutes} minutes of a shared Ollama pool (2 processes)")
        with _demo_progress(minutes * 2) as step:
            result = await run_demo(store, minutes=minutes, seed=seed, progress=step)
        click.echo(
            f"recorded {result.events} events in hub {result.hub_id!r} of {run.where}, "
            f"{result.start} .. {result.end}"
        )
        _demo_summary(result)
        click.echo("health changes:")
        async for event in store.read_log(result.hub_id):
            if event.type in ("HealthChanged", "RecoveryFailed", "InstanceRecovered"):
                click.echo("  " + text_line(event))
        _demo_next(run.where, result.hub_id)


def _demo_progress(total: int) -> Any:
    """A progress bar on a terminal, a line every 25 % otherwise."""
    if sys.stderr.isatty():
        bar = click.progressbar(length=total, label="ticks", file=sys.stderr)

        @contextmanager
        def on_terminal() -> Iterator[Callable[[int, int], None]]:
            with bar:
                yield lambda done, _: bar.update(done - bar.pos)

        return on_terminal()

    @contextmanager
    def plain() -> Iterator[Callable[[int, int], None]]:
        def step(done: int, total: int) -> None:
            if done * 4 // total != (done - 1) * 4 // total:
                click.echo(f"  {done}/{total} ticks", err=True)

        yield step

    return plain()


def _demo_summary(result: Any) -> None:
    click.echo(f"leases: {result.leases} granted, {result.contended} times a server was full")
    for node, figures in result.figures.items():
        shown = ", ".join(f"{k} {v}" for k, v in figures.items())
        click.echo(f"recorder {node}: {shown}")
    click.echo("advisor:")
    for line in result.advice:
        click.echo(f"  {line}")


def _demo_next(where: str, hub: str) -> None:
    click.echo("inspect it:")
    click.echo(f"  hublog --url {where} timeline --hub {hub} --instance ollama-2")
    click.echo(f"  hublog --url {where} state --hub {hub} --at 15m")
    click.echo(f"  hublog --url {where} events --hub {hub} --type ScalingAdvised")
    click.echo(f"  hublog --url {where} events --hub {hub} --type RecorderStats --json")
    click.echo(f"  hublog --url {where} metrics --hub {hub} --instance ollama-2 --resolution 1m")
    click.echo(f"  hublog --url {where} report --hub {hub} -o incident.html")


@click.group()
def db() -> None:
    """The SQL schema: alembic migrations."""


def _db_url(argument: str | None, url: str | None, debug: bool) -> Run:
    from .common import default_url

    if argument and url and argument != url:
        raise click.UsageError(f"two URLs given: {argument!r} and --url {url!r}")
    context = click.get_current_context()
    group = context.find_root().obj or {}
    if group.get("hub"):
        raise click.UsageError(f"{context.command_path} takes no --hub")
    return Run(
        argument or url or group.get("url") or default_url(),
        None,
        False,
        debug or group.get("debug", False),
    )


_DB_URL = click.option("--url", "-u", help="The SQL database (same as the URL argument).")
_DB_DEBUG = click.option("--debug", is_flag=True, help="Show a traceback on errors.")


@db.command("upgrade")
@click.argument("argument", metavar="[URL]", required=False)
@_DB_URL
@_DB_DEBUG
def db_upgrade(argument: str | None, url: str | None, debug: bool) -> None:
    """Migrate an SQL database to this hublog's schema (idempotent).

    Example:  hublog db upgrade postgresql://gleitzeit@db.internal/gleitzeit
    """
    from ..sql import migrations  # imported on use: SQLAlchemy and alembic are slow to load

    run = _db_url(argument, url, debug)
    guarded(run, lambda: _migrate(run.url, upgrade=True))
    click.echo(f"{run.where} is at schema revision {migrations.head_revision()}")


@db.command("current")
@click.argument("argument", metavar="[URL]", required=False)
@_DB_URL
@_DB_DEBUG
def db_current(argument: str | None, url: str | None, debug: bool) -> None:
    """Print the database's schema revision and this hublog's.

    Example:  hublog db current sqlite:///hublog.db
    """
    from ..sql import migrations

    run = _db_url(argument, url, debug)
    found = guarded(run, lambda: _migrate(run.url, upgrade=False))
    click.echo(f"database: {found or 'none'}\nhublog:   {migrations.head_revision()}")


def _migrate(url: str, *, upgrade: bool) -> str | None:
    from ..sql import SQLSettings, create_engine, migrations

    parsed = parse(url)
    if parsed.backend not in ("sqlite", "postgresql"):
        raise click.ClickException(f"{parsed.redacted} is not an SQL database: nothing to migrate")
    engine = create_engine(SQLSettings.from_url(parsed, read_only=not upgrade))
    try:
        with engine.connect().execution_options(hublog_write=True) as conn:
            if upgrade:
                migrations.upgrade(conn)
            return migrations.current_revision(conn)
    finally:
        engine.dispose()


__all__ = ["EventStoreError", "db", "demo", "rebuild_command", "urls", "verify_command"]
