"""Which follower a store gets."""

from __future__ import annotations

from ..engine import Database
from ..settings import SQLSettings
from .base import Follower
from .postgres import PostgresListener
from .sqlite import SQLiteChangeCheck


def follower_for(database: Database, settings: SQLSettings) -> Follower:
    """The store's follower: LISTEN on PostgreSQL, the change check on a
    SQLite file, the plain poll when turned off (or for ``:memory:``)."""
    if database.dialect == "postgresql" and settings.listen:
        return PostgresListener(database, settings.poll_interval)
    sqlite_file = database.engine.url.database not in (None, "", ":memory:")
    if database.dialect == "sqlite" and settings.change_check_interval > 0 and sqlite_file:
        return SQLiteChangeCheck(database, settings.poll_interval, settings.change_check_interval)
    return Follower(settings.poll_interval)
