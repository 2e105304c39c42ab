"""Running and checking the alembic migrations that define the SQL schema."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from alembic import command
from eventstore.errors import SchemaVersionError


def script_location() -> Path:
    """The migrations: inside the installed package (wheel), else the checkout's."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "_alembic", here.parent.parent / "alembic"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError(f"hublog's alembic migrations are missing (looked beside {here})")


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: sa.Connection, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` on an open connection (committed)."""
    command.upgrade(_config(connection), revision)
    if connection.in_transaction():
        connection.commit()


def check(connection: sa.Connection, where: str) -> None:
    """Raises: SchemaVersionError unless the database is at the head revision.

    The message says what was found and what to run.
    """
    found = current_revision(connection)
    head = head_revision()
    if found == head:
        return
    script = ScriptDirectory.from_config(_config())
    if found is None:
        state = "has no hublog schema"
        action = f"run `hublog db upgrade {where}`"
    elif _known(script, found):
        state = f"is at schema revision {found}, older than this hublog's {head}"
        action = f"run `hublog db upgrade {where}`"
    else:
        state = f"is at schema revision {found}, which this hublog ({head}) does not know"
        action = "it was migrated by a newer hublog; upgrade hublog to open it"
    raise SchemaVersionError(f"database {where} {state}: {action}")


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except CommandError:  # alembic's ResolutionError for an id it has no script for
        return False
