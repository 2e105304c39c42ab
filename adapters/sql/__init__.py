"""The SQL backend: SQLite (the embedded default) and PostgreSQL, through
SQLAlchemy Core, with the schema made by alembic.

Modules: ``settings`` (the one place options are read), ``engine`` (engines
and error translation), ``schema`` (every table), ``append`` (the append
transaction), ``store`` (the event store), ``readmodels`` (read-model
storage), ``migrations`` (running and checking alembic).
"""

from .engine import create_engine
from .readmodels import SQLReadModelStore
from .settings import SQLSettings, sqlalchemy_url
from .store import SQLEventStore, create_store

__all__ = [
    "SQLEventStore",
    "SQLReadModelStore",
    "SQLSettings",
    "create_engine",
    "create_store",
    "sqlalchemy_url",
]
