"""Commands that write or read files: report, export, import."""

from __future__ import annotations

from pathlib import Path

import click

from .. import open_store, readmodel_store_for
from ..replay import jsonl, report, report_html
from ..replay.errors import EmptyRange
from ..replay.scope import hubs_in_scope, hubs_with_instance, one_hub, unknown_instance
from .common import OutputFile, Run, echo_json, options, write_text
from .inspect import event_filter, filter_options, window


@click.command("report")
@click.option("--since", help="Window start: ISO time, relative (2h) or @POSITION.")
@click.option("--until", help="Window end (same forms).")
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("incident.html"),
    show_default=True,
    help="The HTML file to write.",
)
@options(json=False)
async def report_command(run: Run, since: str | None, until: str | None, output: Path) -> None:
    """Write one self-contained HTML incident report: summary, per-instance charts of
    response time, error rate and load with health changes, recoveries and leases
    marked, status changes, anomalies, and the hublog command beside each figure.

    Example:  hublog report --hub demo-pool --since 30m -o incident.html
    """
    span = window(since, until, None, None)
    async with open_store(run.url, read_only=True) as store, readmodel_store_for(store) as storage:
        hub = await one_hub(store, run.hub, run.where, "report")
        data = await report.collect(store, storage, hub, span, run.where)
    write_text(output, report_html.render(data))
    click.echo(
        f"wrote {output}: hub {hub}, positions {data.after + 1}..{data.last}, "
        f"{len(data.instances)} instances, {len(data.changes)} status changes"
    )


@click.command("export")
@filter_options
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The JSON Lines file to write ('-' for stdout).",
)
@options(json=False)
async def export_command(
    run: Run,
    instance: str | None,
    type_names: tuple[str, ...],
    stream: str | None,
    correlation: str | None,
    since: str | None,
    until: str | None,
    from_position: int | None,
    to_position: int | None,
    output: Path,
) -> None:
    """Export events as JSON Lines: the full envelope and the stored payload
    bytes (base64, also of unknown and corrupt events) plus a decoded view.

    Example:  hublog --url redis://prod:6379/0 export --hub ollama-pool --since 6h -o pool.jsonl
    """
    selection = event_filter(stream, instance, type_names, correlation, None)
    span = window(since, until, from_position, to_position)
    async with (
        open_store(run.url, codec=jsonl.RAW_CODEC, read_only=True) as store,
        readmodel_store_for(store) as storage,
    ):
        hubs = await hubs_in_scope(store, run.hub, run.where)
        if not hubs:
            raise EmptyRange(f"{run.where} holds no hubs: nothing to export")
        if instance is not None and not await hubs_with_instance(store, hubs, instance):
            async with open_store(run.url, read_only=True) as decoding:  # raw reads list nothing
                raise await unknown_instance(decoding, None, hubs, instance, run.where)
        written = 0
        with OutputFile(output) as out:
            for hub in hubs:
                after, last = await span.positions(store, hub)
                chosen = type(selection)(**{**selection.__dict__, "after": after, "last": last})
                written += await jsonl.export(store, [hub], chosen, out, storage=storage)
    click.echo(f"exported {written} events of {', '.join(hubs)} to {output}", err=True)


@click.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@options(hub=False)
async def import_command(run: Run, path: Path) -> None:
    """Import a JSON Lines export, keeping positions, versions, ids and times.

    The whole file is checked first (a damaged line is reported by number and
    nothing is written); events already in the log are skipped, so importing
    twice is harmless; a hub whose log disagrees with the file is refused.

    Example:  hublog --url sqlite:///incident.db import pool.jsonl
    """
    async with open_store(run.url) as store, readmodel_store_for(store) as storage:
        result = await jsonl.import_file(store, path, storage=storage)
    if run.as_json:
        echo_json(
            {
                "lines": result.lines,
                "written": result.written,
                "skipped": result.skipped,
                "unreadable": result.unreadable,
                "partial": {hub: h.describe() for hub, h in result.headers.items()},
            }
        )
        return
    for hub in result.written:
        header = result.headers.get(hub)
        holds = "" if header is None else f" (the export held {header.describe()})"
        click.echo(
            f"hub {hub}: {result.written[hub]} events imported, "
            f"{result.skipped[hub]} already there{holds}"
        )
    if result.unreadable:
        click.echo(f"{result.unreadable} records with unreadable envelopes not imported", err=True)
