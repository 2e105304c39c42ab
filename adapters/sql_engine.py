"""What every SQL-backed part of hublog shares: its engine, and how driver
errors become hublog's (the event store and the read-model store alike)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from eventstore.errors import BackendUnavailable

from . import urls

T = TypeVar("T")

WRITE = "hublog_write"
"""Execution option: this transaction will write (on SQLite: BEGIN IMMEDIATE)."""


@dataclass(frozen=True)
class Database:
    """An engine, whether we made it (and so dispose of it), and its name for messages."""

    engine: sa.Engine
    owned: bool
    where: str

    @classmethod
    def of(cls, engine_or_url: sa.Engine | str, make: Callable[[str], sa.Engine]) -> Database:
        if isinstance(engine_or_url, sa.Engine):
            return cls(engine_or_url, False, engine_or_url.url.render_as_string(hide_password=True))
        return cls(make(engine_or_url), True, urls.redact(engine_or_url))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``; errors meaning "not reachable now" become BackendUnavailable."""
        try:
            return fn(*args)
        except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError) as exc:
            raise self.unavailable(exc) from exc
        except sa.exc.DBAPIError as exc:
            if exc.connection_invalidated:
                raise self.unavailable(exc) from exc
            raise

    def unavailable(self, exc: sa.exc.SQLAlchemyError) -> BackendUnavailable:
        orig = getattr(exc, "orig", None) or exc
        text = str(orig).strip()
        reason = text.splitlines()[0] if text else type(orig).__name__
        return BackendUnavailable(f"{self.dialect} at {self.where}: {reason}")
