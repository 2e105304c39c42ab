"""What every ``hublog`` command shares: where the log is (``--url`` before
or after the command name, then the environment, then the embedded
default), ``--hub``, ``--json``, ``--debug``, and one place that turns
errors into a one-line message and exit status 1."""

from __future__ import annotations

import errno
import functools
import os
import shutil
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

import anyio
import click
import msgspec

from eventstore import EventStoreError

from .. import urls

DEFAULT_URL = "sqlite:///hublog.db"
INTERRUPTED = 130  # 128 + SIGINT: what a shell reports for a command Ctrl-C ended
CLOSED_PIPE = 141  # 128 + SIGPIPE: what `cat big | head -1` leaves behind
URL_HELP = (
    "Store URL: sqlite:///file.db, postgresql://…, redis://…, memory://. Default: from "
    "GLEITZEIT_HUB_PERSISTENCE with GLEITZEIT_SQL_URL / GLEITZEIT_REDIS_URL (or the one of "
    f"those set), then HUBLOG_URL, then {DEFAULT_URL}."
)


@dataclass
class Run:
    """One invocation: the resolved URL and the shared flags."""

    url: str
    hub: str | None
    as_json: bool
    debug: bool
    no_trunc: bool = False

    @property
    def where(self) -> str:
        return urls.redact(self.url)

    @property
    def terminal(self) -> bool:
        return on_terminal()

    @property
    def width(self) -> int | None:
        """Where long lines are cut: the terminal's width (``COLUMNS`` when
        set); None (never cut) when piped or with ``--no-trunc``."""
        if self.no_trunc or not on_terminal():
            return None
        return shutil.get_terminal_size().columns


def on_terminal() -> bool:
    return sys.stdout.isatty()


def default_url() -> str:
    """The store URL when no --url is given: the environment Gleitzeit reads
    (:func:`adapters.hub.config.from_env`, the one reading of it), then
    HUBLOG_URL, then the embedded default.

    Raises: click.ClickException naming the variable at fault.
    """
    from ..hub.config import HubConfigError, from_env

    try:
        settings = from_env()
    except HubConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if settings is not None:
        return settings.url
    return os.environ.get("HUBLOG_URL") or DEFAULT_URL


def options(
    *, json: bool = True, hub: bool = True, wide: bool = False
) -> Callable[[Callable[..., Any]], Any]:
    """Add --url, --hub, --json, --debug (and with ``wide`` --no-trunc) to an
    async command body taking a :class:`Run` first; run it under anyio with
    clean errors."""

    def decorate(fn: Callable[..., Awaitable[Any]]) -> Any:
        @functools.wraps(fn)
        def wrapper(url: str | None, debug: bool, **kwargs: Any) -> Any:
            context = click.get_current_context()
            group = context.find_root().obj or {}
            if not hub and group.get("hub"):
                raise click.UsageError(f"{context.command_path} takes no --hub")
            run = Run(
                url=url or group.get("url") or default_url(),
                hub=kwargs.pop("hub", None) or group.get("hub"),
                as_json=kwargs.pop("as_json", False),
                debug=debug or group.get("debug", False),
                no_trunc=kwargs.pop("no_trunc", False),
            )
            return guarded(run, lambda: anyio.run(functools.partial(fn, run, **kwargs)))

        wrapper = click.option("--debug", is_flag=True, help="Show a traceback on errors.")(wrapper)
        if wide:
            wrapper = click.option(
                "--no-trunc",
                is_flag=True,
                help="Never cut long lines (on a terminal they are cut to its width; "
                "piped, never).",
            )(wrapper)
        if json:
            wrapper = click.option(
                "--json", "as_json", is_flag=True, help="JSON (one object per line for listings)."
            )(wrapper)
        if hub:
            wrapper = click.option("--hub", help="Only this hub (default: every hub).")(wrapper)
        return click.option("--url", "-u", help=URL_HELP)(wrapper)

    return decorate


def guarded(run: Run, call: Callable[[], Any]) -> Any:
    """``call()``; hublog errors and driver errors become one line, exit 1.

    A closed stdout (``| head``) is passed on to :func:`shell_conventions`.
    """
    try:
        return call()
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except Exception as exc:
        innermost = _innermost(exc)
        if _closed_pipe(innermost):
            raise innermost from None
        if run.debug:
            raise
        raise click.ClickException(describe(innermost, run.url)) from None


@contextmanager
def shell_conventions() -> Iterator[None]:
    """Ctrl-C ends the command at once with status 130, silently; a closed
    stdout ends it quietly with status 141.

    Ctrl-C does not unwind: a worker thread blocked in a driver call (or an
    idle one the interrupted event loop never told to stop) would keep the
    interpreter from exiting, for minutes.  Ending the process is as safe
    as the SIGKILL every backend and the spill file are built to survive:
    a transaction not committed is not in the log, and nothing else is
    written in place.
    """
    if os.environ.get("NO_COLOR"):  # https://no-color.org
        click.get_current_context().color = False
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, _end_interrupted)
    try:
        yield
    except OSError as exc:
        if not _closed_pipe(exc):
            raise
        _silence_stdout()
        raise click.exceptions.Exit(CLOSED_PIPE) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _end_interrupted(signum: int, frame: object) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, RuntimeError):  # a closed pipe, a write it interrupted
            pass
    os._exit(INTERRUPTED)


def _closed_pipe(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno == errno.EPIPE


def _silence_stdout() -> None:
    """What is still buffered goes nowhere, so exiting does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # not a real file (a test's runner): nothing buffered to lose
        pass


def _innermost(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def describe(exc: BaseException, url: str) -> str:
    """One line naming the problem, with any password of ``url`` hidden."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if not isinstance(exc, EventStoreError | click.ClickException):
        orig = getattr(exc, "orig", None)  # a driver error SQLAlchemy wrapped
        reason = str(orig).strip().splitlines()[0] if orig else first
        first = f"{urls.redact(url)}: {reason} ({type(orig or exc).__name__}; --debug shows more)"
    return _hide_password(first, url)


def _hide_password(text: str, url: str) -> str:
    redacted = urls.redact(url)
    if redacted != url:
        text = text.replace(url, redacted)
        try:
            password = urlsplit(url).password
        except ValueError:
            password = None
        if password:
            text = text.replace(password, "***")
    return text


class OutputFile:
    """A file a command writes (``-``: stdout): its open, write and close
    errors name the file, never the database."""

    def __init__(self, path: Path | str, mode: str = "wb") -> None:
        self.path = str(path)
        encoding = None if "b" in mode else "utf-8"
        self._file = self._call(click.open_file, self.path, mode, encoding)

    def write(self, data: Any) -> int:
        return int(self._call(self._file.write, data))

    def close(self) -> None:
        self._call(self._file.close)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except OSError as exc:
            if _closed_pipe(exc):
                raise
            raise click.ClickException(f"cannot write {self.path}: {exc.strerror or exc}") from None


def write_text(path: Path, text: str) -> None:
    """Raises: click.ClickException naming the file."""
    with OutputFile(path, "w") as out:
        out.write(text)


def echo_json(data: Any) -> None:
    click.echo(msgspec.json.encode(data).decode())


def paint(header: str, cell: str) -> str:
    """Colours for table cells on a terminal (click strips them elsewhere)."""
    word = cell.strip()
    if header in ("type", "what", "status", "severity", "to"):
        colour = _COLOURS.get(word) or _COLOURS.get(word.split(" ")[0])
        if colour:
            return click.style(cell, fg=colour)
    if header == "position":
        return click.style(cell, dim=True)
    return cell


_COLOURS = {
    "HealthChanged": "yellow",
    "RecoveryFailed": "red",
    "InstanceRecovered": "green",
    "InstanceRegistered": "cyan",
    "InstanceDeregistered": "magenta",
    "LockGranted": "blue",
    "LockExpired": "magenta",
    "health": "yellow",
    "recovered": "green",
    "recovery": "red",
    "healthy": "green",
    "degraded": "yellow",
    "unhealthy": "red",
    "error": "red",
    "warning": "yellow",
}
