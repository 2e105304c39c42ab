"""What opening a database at another schema revision says: an older
revision this hublog knows is to be upgraded; one it does not know came
from a newer hublog."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.sql import SQLEventStore, create_engine, migrations
from eventstore import SchemaVersionError

pytestmark = pytest.mark.anyio


def at_revision(path: Path, revision: str) -> str:
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.connect() as conn:
        migrations.upgrade(conn, revision)
    engine.dispose()
    return url


@pytest.mark.parametrize("revision", ["0001", "0003"])
async def test_a_database_at_an_older_known_revision_is_told_to_upgrade(
    tmp_path: Path, revision: str
) -> None:
    url = at_revision(tmp_path / "old.db", revision)
    head = migrations.head_revision()

    store = SQLEventStore(url)
    with pytest.raises(SchemaVersionError) as caught:
        await store.open()
    await store.close()

    assert str(caught.value) == (
        f"database {url} is at schema revision {revision}, older than this hublog's {head}: "
        f"run `hublog db upgrade {url}`"
    )


async def test_a_database_at_a_revision_this_hublog_never_had_is_from_a_newer_one(
    tmp_path: Path,
) -> None:
    url = at_revision(tmp_path / "new.db", "head")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    head = migrations.head_revision()

    store = SQLEventStore(url)
    with pytest.raises(SchemaVersionError) as caught:
        await store.open()
    await store.close()

    assert str(caught.value) == (
        f"database {url} is at schema revision 0099, which this hublog ({head}) does not "
        "know: it was migrated by a newer hublog; upgrade hublog to open it"
    )
