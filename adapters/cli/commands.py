"""The ``hublog`` command: a thin layer over the library.

Each command opens the store, calls one library function and turns hublog's
errors into a one-line message and exit status 1.  Each command's docstring is
its ``--help``, with an example.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import ParamSpec, TypeVar

import anyio
import click

from eventstore import EventStoreError

from .. import open_store, urls
from ..replay.filters import EventFilter, select_events
from ..replay.lines import json_line, text_line
from ..sql import migrations
from ..stores import parse

DEFAULT_URL = "sqlite:///hublog.db"
P = ParamSpec("P")
T = TypeVar("T")


def _run(fn: Callable[P, Awaitable[T]]) -> Callable[P, T]:
    """Run an async command body; hublog errors become clean exits."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return anyio.run(functools.partial(fn, *args, **kwargs))
        except EventStoreError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--url",
    "-u",
    envvar="HUBLOG_URL",
    default=DEFAULT_URL,
    show_default=True,
    help="Store URL (memory://, sqlite:///file.db, postgresql://…, redis://…); env HUBLOG_URL.",
)
@click.pass_context
def main(ctx: click.Context, url: str) -> None:
    """hublog: replay and inspect the event log of Gleitzeit's resource hubs.

    Example:  hublog demo && hublog events demo-pool --limit 20
    """
    ctx.obj = url


@main.command()
@click.option("--minutes", default=30, show_default=True, help="Simulated minutes.")
@click.option("--seed", default=7, show_default=True, help="Random seed of the simulation.")
@click.pass_obj
@_run
async def demo(url: str, minutes: int, seed: int) -> None:
    """Simulate an Ollama pool with an incident and record it in the log.

    Example:  hublog demo --minutes 30
    """
    from ..replay.demo import run_demo

    async with open_store(url) as store:
        result = await run_demo(store, minutes=minutes, seed=seed, progress=click.echo)
        click.echo(
            f"recorded {result.events} events in hub {result.hub_id!r} of {urls.redact(url)}"
        )
        click.echo("health changes:")
        async for event in store.read_log(result.hub_id):
            if event.type in ("HealthChanged", "RecoveryFailed", "InstanceRecovered"):
                click.echo("  " + text_line(event))
        click.echo(f"next: hublog --url {urls.redact(url)} events {result.hub_id} --limit 20")


@main.command()
@click.pass_obj
@_run
async def hubs(url: str) -> None:
    """List the hubs in the log with their last position.

    Example:  hublog --url sqlite:///hublog.db hubs
    """
    async with open_store(url) as store:
        for hub_id in await store.hubs():
            click.echo(f"{hub_id}\t{await store.head(hub_id)}")


@main.command()
@click.argument("hub_id")
@click.option("--stream", help="Only this stream, e.g. instance/ollama-2.")
@click.option("--type", "type_names", multiple=True, help="Only these event types (repeatable).")
@click.option("--after", default=0, show_default=True, help="Start after this position.")
@click.option("--limit", type=int, help="At most this many events.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines instead of text.")
@click.option("--follow", "-f", is_flag=True, help="Keep following new events (Ctrl-C stops).")
@click.pass_obj
@_run
async def events(
    url: str,
    hub_id: str,
    stream: str | None,
    type_names: tuple[str, ...],
    after: int,
    limit: int | None,
    as_json: bool,
    follow: bool,
) -> None:
    """List a hub's events in log order, with filters; --follow keeps going.

    Example:  hublog events demo-pool --stream instance/ollama-2 --type HealthChanged
    """
    selection = EventFilter(stream=stream, types=frozenset(type_names), after=after, limit=limit)
    async with (
        open_store(url) as store,
        aclosing(select_events(store, hub_id, selection, follow=follow)) as events,
    ):
        async for event in events:
            click.echo(json_line(event) if as_json else text_line(event))


@main.group()
def db() -> None:
    """The SQL schema: alembic migrations."""


@db.command("upgrade")
@click.argument("url", required=False)
@click.pass_obj
def db_upgrade(default_url: str, url: str | None) -> None:
    """Migrate an SQL database to this hublog's schema (idempotent).

    Example:  hublog db upgrade postgresql://gleitzeit@db.internal/gleitzeit
    """
    target = url or default_url
    _migrate(target, upgrade=True)
    click.echo(f"{urls.redact(target)} is at schema revision {migrations.head_revision()}")


@db.command("current")
@click.argument("url", required=False)
@click.pass_obj
def db_current(default_url: str, url: str | None) -> None:
    """Print the database's schema revision and this hublog's.

    Example:  hublog db current sqlite:///hublog.db
    """
    target = url or default_url
    found = _migrate(target, upgrade=False)
    click.echo(f"database: {found or 'none'}\nhublog:   {migrations.head_revision()}")


def _migrate(url: str, *, upgrade: bool) -> str | None:
    from ..sql import create_engine

    try:
        parsed = parse(url)
        if parsed.backend not in ("sqlite", "postgresql"):
            raise click.ClickException(
                f"{parsed.redacted} is not an SQL database: nothing to migrate"
            )
        engine = create_engine(url)
        try:
            with engine.connect().execution_options(hublog_write=True) as conn:
                if upgrade:
                    migrations.upgrade(conn)
                return migrations.current_revision(conn)
        finally:
            engine.dispose()
    except EventStoreError as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:  # driver errors: say which database, not a traceback
        raise click.ClickException(f"{urls.redact(url)}: {exc}") from exc


if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(__file__))
