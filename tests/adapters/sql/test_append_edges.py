"""The SQL append's edges (adapters/sql/append.py): the PostgreSQL one-statement
append on its own, the step-by-step append PostgreSQL falls back to, the
clock that is never before the hub's last event (its query per dialect), a
retry refused before the insert, and where alembic finds the migrations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa

from adapters.sql import SQLEventStore, migrations
from adapters.sql import append as sql_append
from adapters.sql.engine import WRITE
from adapters.sql.schema import events
from eventstore import DuplicateEventError, EventStore
from eventstore.envelope import ANY, NO_STREAM, AppendResult, NewEvent, StoredEvent
from tests.eventstore.contract.factories import checks, sampled

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
OTHER = "vllm-pool"
A = "instance/a"
M = "metrics/a"
LATER = datetime(2999, 1, 1, 12, 0, 0, 250000, tzinfo=UTC)
"""After any clock this suite runs under: an event the clamp must not go before."""
T = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def new_events(n: int) -> list[NewEvent]:
    return [
        NewEvent(event_id=uuid4(), type="HealthChecked", schema_version=1, data=b"{}")
        for _ in range(n)
    ]


def stored_at(position: int, at: datetime, hub_id: str = HUB) -> StoredEvent:
    return StoredEvent(
        hub_id=hub_id,
        stream=A,
        version=position,
        position=position,
        event_id=uuid4(),
        type="HealthChecked",
        schema_version=1,
        data=b"{}",
        recorded_at=at,
    )


def logged(store: SQLEventStore, hub_id: str = HUB) -> list[tuple[int, int, object, datetime]]:
    """(position, version, event_id, recorded_at) of the hub's rows, read through the schema."""
    query = (
        sa.select(events.c.position, events.c.version, events.c.event_id, events.c.recorded_at)
        .where(events.c.hub_id == hub_id)
        .order_by(events.c.position)
    )
    with store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def damage(store: SQLEventStore, sql: str) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql(sql)


# --- PostgreSQL: the append as one statement --------------------------------


@pytest.mark.parametrize("before", [0, 2], ids=["a new stream", "a stream at version 2"])
async def test_the_one_statement_append_with_any_writes_at_whatever_version_the_stream_has(
    pg_url: str, before: int
) -> None:
    batch = new_events(3)
    async with SQLEventStore(pg_url) as store:
        if before:
            await store.append(HUB, A, checks(before))
        autocommit = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        with autocommit as conn:
            result = sql_append.append_in_one(conn, HUB, A, batch, ANY)

        assert result == AppendResult(before + 3, before + 1, before + 3)
        assert [(p, v, i) for p, v, i, _ in logged(store)][before:] == [
            (before + 1, before + 1, batch[0].event_id),
            (before + 2, before + 2, batch[1].event_id),
            (before + 3, before + 3, batch[2].event_id),
        ]


async def test_the_one_statement_append_at_a_wrong_version_writes_nothing_and_says_none(
    pg_url: str,
) -> None:
    async with SQLEventStore(pg_url) as store:
        await store.append(HUB, A, checks(2))
        autocommit = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        with autocommit as conn:
            result = sql_append.append_in_one(conn, HUB, A, new_events(1), NO_STREAM)

        assert result is None
        assert [p for p, *_ in logged(store)] == [1, 2]
        assert (await store.head(HUB), await store.stream_version(HUB, A)) == (2, 2)


OUTSIDE_PYTHON = pytest.mark.parametrize(
    "outside",
    ["10000-01-01 00:00:00+00", "0001-12-31 00:00:00+00 BC", "infinity"],
    ids=["past year 9999", "before year 1", "infinity"],
)


@OUTSIDE_PYTHON
async def test_the_one_statement_append_passes_over_a_last_time_python_cannot_hold(
    pg_url: str, outside: str
) -> None:
    """hublog_advance (migration 0005) skips it as the fallback does: before,
    a finite year 10000 won GREATEST and stamped every new event with it."""
    async with SQLEventStore(pg_url) as store:
        await store.append(HUB, A, checks(1))
        damage(store, f"UPDATE hublog_events SET recorded_at = '{outside}'")
        before = datetime.now(UTC)
        autocommit = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        with autocommit as conn:
            assert sql_append.append_in_one(conn, HUB, A, new_events(1), ANY) is not None
        after = datetime.now(UTC)

        with store.engine.connect() as conn:
            query = "SELECT recorded_at FROM hublog_events WHERE position = 2"
            [recorded_at] = conn.exec_driver_sql(query).scalars().all()
        assert before <= recorded_at <= after


# --- the step-by-step append, and its clock ---------------------------------


async def test_an_append_after_an_event_recorded_later_than_the_clock_is_recorded_at_its_time(
    zoned_url: str,
) -> None:
    """The step-by-step append (SQLite's, and PostgreSQL's fallback) binds
    the time in the column's stored format: the instant, whatever this
    process's zone (SQLite's naive UTC text) and the session's (PostgreSQL)."""
    batch = new_events(2)
    async with SQLEventStore(zoned_url, auto_migrate=True) as store:
        assert await store.import_events(HUB, [stored_at(1, LATER)]) == 1
        with store.engine.connect().execution_options(**{WRITE: True}) as conn:
            result = sql_append.append(conn, HUB, A, batch, ANY)

        assert result == AppendResult(3, 2, 3)
        assert logged(store)[1:] == [
            (2, 2, batch[0].event_id, LATER),
            (3, 3, batch[1].event_id, LATER),
        ]
        assert await store.position_at(HUB, LATER) == 3


@OUTSIDE_PYTHON
async def test_a_last_time_python_cannot_hold_is_passed_over_by_the_fallback_clock(
    pg_url: str, outside: str
) -> None:
    """psycopg refuses such a time, and the fallback must not fail on it."""
    async with SQLEventStore(pg_url) as store:
        await store.append(HUB, A, checks(1))
        damage(store, f"UPDATE hublog_events SET recorded_at = '{outside}'")
        with store.engine.connect() as conn, conn.begin():
            assert sql_append.not_before_last_event(conn, HUB, T) == T


async def test_a_last_time_sqlite_holds_as_a_number_still_holds_the_clock_back(
    make_url: Callable[[str], str],
) -> None:
    """SQLite's numeric affinity stores compact ISO text (a foreign tool's)
    as an integer; the log reads it as that day, so the clamp must too."""
    async with SQLEventStore(make_url("sqlite")) as store:
        await store.append(HUB, A, checks(1))
        damage(store, "UPDATE hublog_events SET recorded_at = '29991231'")
        day = datetime(2999, 12, 31, tzinfo=UTC)
        assert [e.recorded_at async for e in store.read_log(HUB)] == [day]

        await store.append(HUB, A, checks(1))

        assert [e.recorded_at async for e in store.read_log(HUB)] == [day, day]


# --- retries answered or refused before the insert --------------------------


async def test_a_partial_retry_at_a_wrong_version_is_refused_naming_the_hub(
    store: EventStore,
) -> None:
    first, second = checks(2)
    await store.append(HUB, A, [first], expected_version=NO_STREAM)

    with pytest.raises(DuplicateEventError) as caught:
        await store.append(HUB, A, [first, second], expected_version=NO_STREAM)

    assert str(caught.value) == (
        f"batch for hub {HUB!r}, stream {A!r} mixes 1 event id(s) already written with "
        "1 new one(s); append the new ones as their own batch"
    )
    assert [e.position async for e in store.read_log(HUB)] == [1]


async def test_a_retry_of_a_batch_whose_sample_retention_deleted_returns_the_first_result(
    store: EventStore,
) -> None:
    batch = [sampled(1), sampled(2), sampled(3)]
    first = await store.append(HUB, M, batch)
    assert await store.delete_metric_samples(HUB, M, through_version=1) == 1

    again = await store.append(HUB, M, batch)

    assert again == first == AppendResult(3, 1, 3)
    assert [e.position async for e in store.read_log(HUB)] == [2, 3]
    assert await store.head(HUB) == 3


# --- where alembic finds the migrations -------------------------------------


def layout(root: Path, *migration_dirs: str) -> Path:
    """A package tree under ``root`` with env.py in each of ``migration_dirs``;
    the path migrations.py would have in it."""
    for name in migration_dirs:
        (root / name / "versions").mkdir(parents=True)
        (root / name / "env.py").write_text("")
    module = root / "adapters" / "sql" / "migrations.py"
    module.parent.mkdir(parents=True)
    return module


def test_an_installed_packages_migrations_come_before_a_checkouts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = layout(tmp_path, "adapters/_alembic", "alembic")
    monkeypatch.setattr(migrations, "__file__", str(module))

    assert migrations.script_location() == tmp_path / "adapters" / "_alembic"


def test_a_checkouts_migrations_are_found_beside_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = layout(tmp_path, "alembic")
    monkeypatch.setattr(migrations, "__file__", str(module))

    assert migrations.script_location() == tmp_path / "alembic"


def test_missing_migrations_are_named_with_where_they_were_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = layout(tmp_path)
    monkeypatch.setattr(migrations, "__file__", str(module))

    with pytest.raises(FileNotFoundError) as caught:
        migrations.script_location()

    assert str(caught.value) == (
        f"hublog's alembic migrations are missing (looked beside {module.parent})"
    )


def test_a_migrations_folder_without_revisions_has_no_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = layout(tmp_path, "adapters/_alembic")
    monkeypatch.setattr(migrations, "__file__", str(module))

    with pytest.raises(AssertionError) as caught:
        migrations.head_revision()

    assert str(caught.value) == "no migrations found"


def test_the_head_revision_is_the_last_migration_of_the_checkout() -> None:
    assert migrations.head_revision() == "0006"
