"""Commands that read the log: hubs, events, state, diff, timeline, metrics."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing
from datetime import datetime, timedelta
from typing import Any, TypeVar

import click

from eventstore import EventStore

from .. import open_store, readmodel_store_for
from ..replay import diff as diffs
from ..replay import lines, state, table, timeline
from ..replay import metrics as metric_series
from ..replay.coverage import coverage
from ..replay.errors import InvalidInput
from ..replay.filters import EventFilter, Window, resolve_types, select_events
from ..replay.lines import cut
from ..replay.scope import (
    hubs_in_scope,
    hubs_with_instance,
    instance_hub,
    one_hub,
    unknown_instance,
)
from ..replay.sparkline import sparkline
from ..replay.timeparse import HELP as POINT_HELP
from ..replay.timeparse import Point, parse_point
from .common import Run, echo_json, options, paint

F = TypeVar("F", bound=Callable[..., Any])
TABLE_SAMPLE = 200  # rows read before the table's column widths are fixed


@click.command()
@options()
async def hubs(run: Run) -> None:
    """List the hubs in the log: last position and last event's time.

    Example:  hublog --url sqlite:///hublog.db hubs
    """
    async with open_store(run.url, read_only=True) as store:
        rows: list[tuple[str, int, datetime | None]] = []
        for hub_id in await hubs_in_scope(store, run.hub, run.where):
            head = await store.head(hub_id)
            last = [e async for e in store.read_log(hub_id, after=max(head - 1, 0), limit=1)]
            rows.append((hub_id, head, last[0].recorded_at if last else None))
        if run.as_json:
            for hub_id, head, at in rows:  # times as everywhere in JSON: ISO 8601, UTC, Z
                echo_json({"hub_id": hub_id, "head": head, "last_recorded_at": at})
        elif rows:
            body = [[h, n, None if at is None else lines.timestamp(at)] for h, n, at in rows]
            click.echo("\n".join(table.render(("hub", "head", "last event (UTC)"), body)))
        else:
            click.echo(f"no hubs in {run.where} yet", err=True)


def window_options(fn: F) -> F:
    for option in reversed(
        (
            click.option("--since", help=f"From this point: {POINT_HELP}."),
            click.option("--until", help="Up to this point (same forms as --since)."),
            click.option("--from-position", type=int, help="From this position (inclusive)."),
            click.option("--to-position", type=int, help="Up to this position (inclusive)."),
        )
    ):
        fn = option(fn)
    return fn


def window(
    since: str | None, until: str | None, from_position: int | None, to_position: int | None
) -> Window:
    """Raises: InvalidInput for a malformed point or a reversed range."""
    for name, value in (("--from-position", from_position), ("--to-position", to_position)):
        if value is not None and value < 1:
            raise InvalidInput(f"{name} must be a position >= 1, got {value}")
    if from_position is not None and to_position is not None and to_position < from_position:
        raise InvalidInput(
            f"empty range: --to-position {to_position} is before --from-position {from_position}"
        )
    return Window(
        since=None if since is None else parse_point(since, "--since"),
        until=None if until is None else parse_point(until, "--until"),
        from_position=from_position,
        to_position=to_position,
    )


def event_filter(
    stream: str | None,
    instance: str | None,
    type_names: tuple[str, ...],
    correlation: str | None,
    limit: int | None,
) -> EventFilter:
    return EventFilter(
        stream=stream,
        instance=instance,
        types=resolve_types(type_names),
        correlation=correlation,
        limit=limit,
    ).check()


def filter_options(fn: F) -> F:
    for option in reversed(
        (
            click.option(
                "--instance",
                help="Only events of this instance (its instance/, metrics/ and lock/ streams).",
            ),
            click.option(
                "--type",
                "type_names",
                multiple=True,
                help="Only these event types: a comma list, any case (repeatable).",
            ),
            click.option("--stream", help="Only this stream, e.g. instance/ollama-2."),
            click.option("--correlation", help="Only events with this correlation id."),
        )
    ):
        fn = option(fn)
    return window_options(fn)


@click.command()
@click.argument("hub_id", required=False, metavar="[HUB]")
@filter_options
@click.option("--limit", type=int, help="At most this many events (per hub).")
@click.option("--after", type=int, hidden=True, help="Same as --from-position N+1.")
@click.option("--follow", "-f", is_flag=True, help="Keep following new events (Ctrl-C stops).")
@options(wide=True)
async def events(
    run: Run,
    hub_id: str | None,
    instance: str | None,
    type_names: tuple[str, ...],
    stream: str | None,
    correlation: str | None,
    since: str | None,
    until: str | None,
    from_position: int | None,
    to_position: int | None,
    limit: int | None,
    after: int | None,
    follow: bool,
) -> None:
    """List events in log order with filters; --follow keeps going live.

    HUB (or --hub) picks one hub; without it every hub is listed in turn.
    Times: ISO (2025-06-01T12:00Z), relative (15m, 2h) or @POSITION.

    Example:  hublog events --hub demo-pool --instance ollama-2 --type HealthChanged --since 2h
    """
    if hub_id and run.hub and hub_id != run.hub:
        raise InvalidInput(f"two hubs given: {hub_id!r} and --hub {run.hub!r}")
    if after is not None:
        from_position = after + 1
    selection = event_filter(stream, instance, type_names, correlation, limit)
    span = window(since, until, from_position, to_position)
    async with open_store(run.url, read_only=True) as store:
        hubs = await hubs_in_scope(store, hub_id or run.hub, run.where)
        if follow and len(hubs) != 1:
            hubs = [await one_hub(store, hub_id or run.hub, run.where, "--follow")]
        await _check_instance(store, run, hubs, instance, follow)
        shown = 0
        for hub in hubs:
            first, last = await span.positions(store, hub)
            chosen = EventFilter(**{**selection.__dict__, "after": first, "last": last})
            shown += await _list(run, store, hub, chosen, follow, with_hub=len(hubs) > 1)
        if not shown and not run.as_json:
            click.echo(f"no events match in {', '.join(hubs) or 'no hub'}", err=True)


async def _check_instance(
    store: EventStore, run: Run, hubs: list[str], instance: str | None, follow: bool
) -> None:
    """Raises: UnknownInstance, unless following (it may yet register)."""
    if instance is None or await hubs_with_instance(store, hubs, instance):
        return
    if not follow:
        raise await unknown_instance(store, None, hubs, instance, run.where)
    click.echo(f"no instance {instance!r} in {', '.join(hubs)} yet: waiting for it", err=True)


async def _list(
    run: Run, store: EventStore, hub: str, chosen: EventFilter, follow: bool, *, with_hub: bool
) -> int:
    """Print the events; the table's layout is fixed from the first rows."""
    headers = (("hub",) if with_hub else ()) + lines.HEADERS
    pending: list[list[str]] = []
    layout: table.Layout | None = None
    shown = 0
    async with aclosing(select_events(store, hub, chosen, follow=follow)) as found:
        async for event in found:
            shown += 1
            if run.as_json:
                click.echo(lines.json_line(event))
                continue
            pending.append(([hub] if with_hub else []) + lines.cells(event))
            if layout is None and (len(pending) >= TABLE_SAMPLE or follow):
                layout = _start_table(headers, pending, run.width)
            elif layout is not None:
                click.echo(layout.line(pending.pop(), paint, run.width))
    if pending:
        _start_table(headers, pending, run.width)
    return shown


def _start_table(
    headers: tuple[str, ...], rows: list[list[str]], width: int | None
) -> table.Layout:
    layout = table.Layout(headers, rows)
    click.secho(layout.header(), bold=True)
    for row in rows:
        click.echo(layout.line(row, paint, width))
    rows.clear()
    return layout


@click.command("state")
@click.option("--at", "at", help=f"The point: {POINT_HELP}. Default: now.")
@options(wide=True)
async def state_command(run: Run, at: str | None) -> None:
    """Show instances, lease holders and the hub summary as they were at a
    point (default: now).

    Example:  hublog state --hub demo-pool --at 10m
    """
    point = Point("now", ago=timedelta(0)) if at is None else parse_point(at, "--at")
    async with open_store(run.url, read_only=True) as store, readmodel_store_for(store) as storage:
        for hub in await hubs_in_scope(store, run.hub, run.where):
            shown = await state.state(store, storage, hub, point)
            if run.as_json:
                echo_json(state.as_json(shown))
            else:
                click.echo("\n".join(cut(line, run.width) for line in state.lines(shown)) + "\n")


@click.command("diff")
@click.argument("a")
@click.argument("b")
@options(wide=True)
async def diff_command(run: Run, a: str, b: str) -> None:
    """Show what changed between two points (times or @positions), with the
    events responsible: instances appeared/disappeared, status and lease changes.

    Example:  hublog diff --hub demo-pool @100 @400
    """
    first, second = parse_point(a, "A"), parse_point(b, "B")
    async with open_store(run.url, read_only=True) as store, readmodel_store_for(store) as storage:
        for hub in await hubs_in_scope(store, run.hub, run.where):
            before, after, changes = await diffs.diff(store, storage, hub, first, second)
            if run.as_json:
                for change in changes:
                    echo_json(change.as_json(hub, before.position, after.position))
                continue
            click.secho(f"hub {hub}: position {before.position} -> {after.position}", bold=True)
            partial = (await coverage(store, storage, hub)).line()
            if partial:
                click.echo(f"  {partial}")
            for change in changes:
                click.echo("\n".join(cut(line, run.width) for line in change.lines()))
            if not changes:
                click.echo("  no instance, status or lease changed")


@click.command("timeline")
@click.option("--instance", required=True, help="The instance id, e.g. ollama-2.")
@click.option("--since", help=f"Only from this point: {POINT_HELP}.")
@options(wide=True)
async def timeline_command(run: Run, instance: str, since: str | None) -> None:
    """Show an instance's life: health transitions with durations, recoveries,
    leases, deregistration, incarnations.

    Example:  hublog timeline --hub demo-pool --instance ollama-2
    """
    point = None if since is None else parse_point(since, "--since")
    async with open_store(run.url, read_only=True) as store:
        hub = await instance_hub(store, None, run.hub, instance, run.where)
        entries, checks = await timeline.timeline(store, hub, instance, point)
    if run.as_json:
        for entry in entries:
            echo_json(entry.as_json(hub, instance))
        return
    click.secho(
        f"{instance} in hub {hub}: {checks['checks']} health checks, {checks['failed']} failed",
        bold=True,
    )
    rows = [e.row() for e in entries]
    click.echo("\n".join(table.render(timeline.HEADERS, rows, style=paint, width=run.width)))


@click.command("metrics")
@click.option("--instance", required=True, help="The instance id, e.g. ollama-2.")
@click.option("--since", help=f"From this time: {POINT_HELP}.")
@click.option("--until", help="Up to this time (same forms).")
@click.option(
    "--resolution",
    type=click.Choice(["raw", "1m", "1h"]),
    default="raw",
    show_default=True,
    help="Raw samples, or 1-minute / 1-hour means.",
)
@options()
async def metrics_command(
    run: Run, instance: str, since: str | None, until: str | None, resolution: str
) -> None:
    """Show an instance's metrics: a table, and a sparkline per metric on a terminal.

    Example:  hublog metrics --hub demo-pool --instance ollama-2 --resolution 1m
    """
    async with open_store(run.url, read_only=True) as store:
        hub = await instance_hub(store, None, run.hub, instance, run.where)
        start = None if since is None else await _time(store, hub, since, "--since")
        end = None if until is None else await _time(store, hub, until, "--until")
        rows = await metric_series.series(
            store, hub, instance, since=start, until=end, resolution=resolution
        )
    if run.as_json:
        for row in rows:
            echo_json(row.as_json(hub, instance))
        return
    if not rows:
        raise InvalidInput(f"no metric samples of {instance!r} in hub {hub} in that window")
    _print_metrics(hub, instance, rows, run.terminal)


async def _time(store: EventStore, hub: str, text: str, what: str) -> datetime | None:
    point = parse_point(text, what)
    if point.position is None:
        return await point.time_in(store)
    events = [e async for e in store.read_log(hub, after=max(point.position - 1, 0), limit=1)]
    return events[0].recorded_at if events else None


def _print_metrics(
    hub: str, instance: str, rows: list[metric_series.Sample], terminal: bool
) -> None:
    names = metric_series.COLUMNS
    click.secho(f"{instance} in hub {hub}: {len(rows)} rows", bold=True)
    body = [[lines.timestamp(r.at), r.count, *(r.values.get(n) for n, _ in names)] for r in rows]
    click.echo("\n".join(table.render(("time (UTC)", "samples", *(h for _, h in names)), body)))
    if terminal:
        click.echo("")
        for name, header in names:
            values = [r.values.get(name, 0.0) for r in rows]
            click.echo(f"{header:>9} {sparkline(values)}  {min(values):,.1f} … {max(values):,.1f}")
