"""alembic environment for hublog's SQL schema.

The database URL comes, in this order, from ``config.attributes["connection"]``
(``hublog db upgrade`` and ``open_store`` pass an open connection),
``-x url=…``, ``$HUBLOG_URL``, ``$GLEITZEIT_SQL_URL``, or ``sqlalchemy.url``
in alembic.ini.  URLs are read exactly as ``open_store`` reads them, so
``postgresql://…`` means psycopg 3 here too.
"""

from __future__ import annotations

import os

import sqlalchemy as sa

from adapters.sql.settings import sqlalchemy_url
from alembic import context

config = context.config


def _url() -> str:
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or os.environ.get("HUBLOG_URL")
        or os.environ.get("GLEITZEIT_SQL_URL")
        or config.get_main_option("sqlalchemy.url")
    )
    if not url:
        raise SystemExit(
            "hublog's alembic env: no database URL; pass -x url=… or set HUBLOG_URL "
            "(or GLEITZEIT_SQL_URL)"
        )
    return url


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=sqlalchemy_url(_url()), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (connection := config.attributes.get("connection")) is not None:
    _run(connection)
else:
    engine = sa.create_engine(sqlalchemy_url(_url()), poolclass=sa.NullPool)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()
