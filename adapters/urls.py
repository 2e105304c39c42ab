"""Store URLs: parsing, normalising for SQLAlchemy, and redacting passwords.

One place decides which URL means which backend, so ``open_store``, the CLI
and alembic's ``env.py`` can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from eventstore.errors import StoreConfigurationError

SQL_SCHEMES = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "postgresql+psycopg": "postgresql",
}
REDIS_SCHEMES = {"redis", "rediss", "redis+cluster", "rediss+cluster"}
MEMORY_SCHEMES = {"memory"}


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL: which backend, and its options."""

    raw: str
    backend: str  # "memory" | "sqlite" | "postgresql" | "redis"
    options: dict[str, str]

    @property
    def redacted(self) -> str:
        return redact(self.raw)


def redact(url: str) -> str:
    """The URL with any password replaced by ``***``."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()
    except ValueError:
        return "<unparsable URL>"


def parse(url: object) -> StoreURL:
    """Raises: StoreConfigurationError naming the (redacted) URL."""
    if not isinstance(url, str) or not url.strip():
        raise StoreConfigurationError(f"a store URL must be a non-empty string, got {url!r}")
    try:
        parts = urlsplit(url)
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
    except ValueError as exc:
        raise StoreConfigurationError(f"malformed store URL {redact(url)!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme in MEMORY_SCHEMES:
        return StoreURL(url, "memory", options)
    if scheme in REDIS_SCHEMES:
        return StoreURL(url, "redis", options)
    if scheme in SQL_SCHEMES:
        backend = SQL_SCHEMES[scheme]
        if backend == "sqlite" and not parts.path.strip("/"):
            raise StoreConfigurationError(
                f"store URL {redact(url)!r} names no file; use sqlite:///relative.db or "
                "sqlite:////absolute/path.db"
            )
        return StoreURL(url, backend, options)
    known = sorted(MEMORY_SCHEMES | REDIS_SCHEMES | set(SQL_SCHEMES))
    raise StoreConfigurationError(
        f"unknown store URL scheme {scheme!r} in {redact(url)!r}; known: {', '.join(known)}"
    )


# Options hublog reads itself; everything else in the query goes to the driver.
HUBLOG_SQL_OPTIONS = {"synchronous", "poll_interval"}


def sqlalchemy_url(url: str | StoreURL) -> sa.URL:
    """The SQLAlchemy URL for a SQL store URL: psycopg 3 for PostgreSQL,
    the standard library's sqlite3 for SQLite, hublog's own options removed.

    Raises: StoreConfigurationError for a non-SQL or malformed URL.
    """
    parsed = url if isinstance(url, StoreURL) else parse(url)
    if parsed.backend not in ("sqlite", "postgresql"):
        raise StoreConfigurationError(f"{parsed.redacted!r} is not an SQL store URL")
    try:
        sa_url = make_url(parsed.raw)
    except sa.exc.ArgumentError as exc:
        raise StoreConfigurationError(f"malformed store URL {parsed.redacted!r}") from exc
    driver = "sqlite+pysqlite" if parsed.backend == "sqlite" else "postgresql+psycopg"
    query = {k: v for k, v in sa_url.query.items() if k not in HUBLOG_SQL_OPTIONS}
    return sa_url.set(drivername=driver, query=query)
