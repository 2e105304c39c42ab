"""``SQLSettings``: everything the SQL backend is configured by, parsed and
checked in one place — from the URL's query and from keyword arguments
(which win), with errors naming the option and the URL (password redacted).

hublog's own options in the query (``?synchronous=normal&poll_interval=0.5``)
are taken out; everything else there goes to the driver (``options=``,
``connect_timeout=``, ``sslmode=``, …).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from eventstore.errors import StoreConfigurationError

from .. import options as opt
from ..urls import StoreURL, redact

SYNCHRONOUS = ("off", "normal", "full", "extra")
URL_OPTIONS = frozenset(
    {"synchronous", "poll_interval", "change_check_interval", "listen", "pool_size"}
)
"""Options hublog reads from the URL's query itself."""
KEYWORDS = URL_OPTIONS | {"auto_migrate", "max_event_bytes", "read_only", "create"}
"""Options that may also be given as keyword arguments."""
DIALECTS = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg"}
SQLITE_DRIVER_OPTIONS = frozenset(
    {"timeout", "cached_statements", "uri", "mode", "cache", "immutable", "nolock", "vfs"}
)
"""What sqlite3 takes from a URL beside hublog's (the rest of SQLite's URI
options need ``uri=true``); ``isolation_level`` and ``check_same_thread``
are hublog's to set."""


def _driver_options(dialect: str) -> tuple[frozenset[str], str]:
    """The query options the driver of ``dialect`` reads, and its name."""
    if dialect == "sqlite":
        return SQLITE_DRIVER_OPTIONS, "sqlite3"
    from psycopg import pq  # libpq's own list: what this libpq accepts

    return frozenset(o.keyword.decode() for o in pq.Conninfo.get_defaults()), "libpq"


@dataclass(frozen=True)
class SQLSettings:
    """How to reach and run an SQL store.

    Attributes:
        url: the store URL (kept out of ``repr``; see ``redacted``).
        dialect: ``sqlite`` or ``postgresql``.
        synchronous: SQLite's ``PRAGMA synchronous``; ``full`` (default) makes
            every acknowledged append survive power loss, ``normal`` only a
            crash of the process.
        poll_interval: the safety net of a following subscriber: it reads
            at least this often (seconds) even when no change signal came, in
            case one was missed.  With the change signal off it is the poll.
        change_check_interval: SQLite: how often (seconds) one connection per
            store checks ``PRAGMA data_version`` for commits by other
            connections; 0 turns the check off (subscribers then poll).
        listen: PostgreSQL: subscribers ``LISTEN`` for the ``NOTIFY`` every
            append sends (one listener connection per store); false turns
            it off (behind a pooler in transaction mode, say).  See
            ``docs/following.md``.
        pool_size: connections kept open to PostgreSQL.
        auto_migrate: migrate a database that has no schema yet
            (``open_store`` sets it for a SQLite file it creates).
        max_event_bytes: the largest encoded event accepted (None: the default).
        read_only: SQLite: open the file read-only (``mode=ro``); it must exist.
        create: SQLite: false refuses a file that does not exist instead of
            creating it (``read_only`` implies it).
    """

    url: str = field(repr=False)
    dialect: str
    synchronous: str = "full"
    poll_interval: float = 1.0
    change_check_interval: float = 0.005
    listen: bool = True
    pool_size: int = 10
    auto_migrate: bool = False
    max_event_bytes: int | None = None
    read_only: bool = False
    create: bool = True

    @property
    def redacted(self) -> str:
        return redact(self.url)

    def __repr__(self) -> str:
        return (
            f"SQLSettings({self.redacted!r}, synchronous={self.synchronous!r}, "
            f"poll_interval={self.poll_interval}, "
            f"change_check_interval={self.change_check_interval}, listen={self.listen}, "
            f"pool_size={self.pool_size}, "
            f"auto_migrate={self.auto_migrate})"
        )

    @classmethod
    def from_url(cls, url: str | StoreURL, **given: Any) -> SQLSettings:
        """Settings for an SQL store URL, keyword arguments overriding the query.

        Raises: StoreConfigurationError for a non-SQL or malformed URL, an
        unknown option or a bad value (naming the option and the URL).
        """
        parsed = url if isinstance(url, StoreURL) else _parse(url)
        where = parsed.redacted
        if parsed.backend not in DIALECTS:
            raise StoreConfigurationError(f"{where!r} is not an SQL store URL")
        _check_names_a_database(parsed)
        # Only URL_OPTIONS are hublog's in the query: everything else there goes
        # to the driver, so reading a keyword-only option from it too would
        # both apply it and hand it to psycopg ("invalid connection option").
        url_options = {k: v for k, v in parsed.options.items() if k in URL_OPTIONS}
        values = opt.merge(url_options, given, KEYWORDS, where)
        settings = cls(url=parsed.raw, dialect=parsed.backend)
        kwargs: dict[str, Any] = {}
        if "synchronous" in values:
            kwargs["synchronous"] = opt.to_choice(
                "synchronous", values["synchronous"], SYNCHRONOUS, where
            )
        if "poll_interval" in values:
            kwargs["poll_interval"] = _positive("poll_interval", values["poll_interval"], where)
        if "change_check_interval" in values:
            kwargs["change_check_interval"] = opt.to_number(
                "change_check_interval",
                values["change_check_interval"],
                minimum=0.0,
                where=where,
                kind=float,
            )
        if "listen" in values:
            kwargs["listen"] = opt.to_bool("listen", values["listen"], where)
        if "pool_size" in values:
            kwargs["pool_size"] = opt.to_number(
                "pool_size", values["pool_size"], minimum=1, where=where, kind=int
            )
        if "auto_migrate" in values:
            kwargs["auto_migrate"] = opt.to_bool("auto_migrate", values["auto_migrate"], where)
        if "max_event_bytes" in values:
            kwargs["max_event_bytes"] = opt.to_number(
                "max_event_bytes", values["max_event_bytes"], minimum=1, where=where, kind=int
            )
        for name in ("read_only", "create"):
            if name in values:
                kwargs[name] = opt.to_bool(name, values[name], where)
        settings = _replace(settings, **kwargs)
        # after hublog's own values: a bad one of those is the clearer message
        opt.check_url_options(
            parsed.options,
            URL_OPTIONS,
            *_driver_options(parsed.backend),
            where,
            keyword_only=KEYWORDS - URL_OPTIONS,
        )
        if settings.dialect == "sqlite" and (settings.read_only or not settings.create):
            _check_exists(settings)
        return settings

    def sqlalchemy_url(self) -> sa.URL:
        """The SQLAlchemy URL: psycopg 3 for PostgreSQL, the standard
        library's sqlite3 for SQLite, hublog's own options removed."""
        try:
            sa_url = make_url(self.url)
        except (sa.exc.ArgumentError, ValueError) as exc:  # ValueError: a port not a number
            raise StoreConfigurationError(f"malformed store URL {self.redacted!r}") from exc
        query = {k: v for k, v in sa_url.query.items() if k not in URL_OPTIONS}
        sa_url = sa_url.set(drivername=DIALECTS[self.dialect], query=query)
        if self.dialect == "sqlite" and self.read_only:
            # sqlite3 opens a URI filename read-only with mode=ro: no file is
            # created, no write gets through.
            path = quote(sa_url.database or "", safe="/")
            sa_url = sa_url.set(
                database=f"file:{path}", query={**query, "mode": "ro", "uri": "true"}
            )
        return sa_url

    def sqlite_path(self) -> Path:
        """The SQLite file these settings name."""
        return Path(make_url(self.url).database or "")


def sqlalchemy_url(url: str | StoreURL) -> sa.URL:
    """The SQLAlchemy URL for an SQL store URL (see :meth:`SQLSettings.sqlalchemy_url`).

    Raises: StoreConfigurationError for a non-SQL or malformed URL, or a
    SQLite URL that names no file (SQLAlchemy would open an in-memory
    database, so ``alembic upgrade`` would migrate nothing and succeed).
    """
    parsed = url if isinstance(url, StoreURL) else _parse(url)
    if parsed.backend not in DIALECTS:
        raise StoreConfigurationError(f"{parsed.redacted!r} is not an SQL store URL")
    _check_names_a_database(parsed)
    return SQLSettings(url=parsed.raw, dialect=parsed.backend).sqlalchemy_url()


def _parse(url: str) -> StoreURL:
    from ..stores import parse  # the one scheme table

    return parse(url)


def _check_names_a_database(parsed: StoreURL) -> None:
    from urllib.parse import urlsplit

    if parsed.backend == "sqlite" and not urlsplit(parsed.raw).path.strip("/"):
        raise StoreConfigurationError(
            f"store URL {parsed.redacted!r} names no file; use sqlite:///relative.db or "
            "sqlite:////absolute/path.db"
        )


def _check_exists(settings: SQLSettings) -> None:
    path = settings.sqlite_path()
    if not path.is_file():
        raise StoreConfigurationError(
            f"no SQLite database at {str(path.absolute())!r} ({settings.redacted}): "
            "nothing was created; check the path"
        )


def _positive(name: str, value: object, where: str) -> float:
    number = opt.to_number(name, value, minimum=0.0, where=where, kind=float)
    if number <= 0:
        raise opt.refuse(name, value, where, "must be > 0")
    return number


def _replace(settings: SQLSettings, **changes: Any) -> SQLSettings:
    from dataclasses import replace

    return replace(settings, **changes)
