"""The ``hublog`` command group: global options, and every command
registered from its module (inspect: reading the log; files: report,
export, import; maintain: verify, rebuild, db, demo).

Each command opens the store, calls the library in ``adapters.replay`` and
turns hublog's errors into a one-line message and exit status 1 (see
:mod:`.common`).  Each command's docstring is its ``--help``, with an example.
"""

from __future__ import annotations

import os

import click

from . import files, inspect, maintain, spill
from .common import URL_HELP, shell_conventions


class Hublog(click.Group):
    """The group, with Ctrl-C and a closed pipe handled as shells expect."""

    def invoke(self, ctx: click.Context) -> object:
        with shell_conventions():
            return super().invoke(ctx)


@click.group(cls=Hublog, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hublog", prog_name="hublog", message="%(prog)s %(version)s")
@click.option("--url", "-u", help=URL_HELP)
@click.option("--hub", help="Only this hub (default: every hub).")
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
@click.pass_context
def main(ctx: click.Context, url: str | None, hub: str | None, debug: bool) -> None:
    """hublog: replay and inspect the event log of Gleitzeit's resource hubs.

    --url, --hub and --debug work before or after the command name; --hub
    picks one hub.

    Example:  hublog demo && hublog report --hub demo-pool -o incident.html
    """
    ctx.obj = {"url": url, "hub": hub, "debug": debug}


for command in (
    inspect.hubs,
    inspect.events,
    inspect.state_command,
    inspect.diff_command,
    inspect.timeline_command,
    inspect.metrics_command,
    files.report_command,
    files.export_command,
    files.import_command,
    maintain.verify_command,
    maintain.rebuild_command,
    maintain.db,
    maintain.demo,
    spill.spill,
):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(__file__))
