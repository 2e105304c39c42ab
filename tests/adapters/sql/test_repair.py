"""repair.raise_counters: a hub head or stream version lowered behind
hublog's back goes up to what the log proves — that hub's, that stream's —
never down, and nothing else moves."""

from __future__ import annotations

import pytest

from adapters.sql import SQLEventStore
from adapters.sql.repair import raise_counters
from eventstore import EventStore
from tests.eventstore.contract.factories import checks

pytestmark = pytest.mark.anyio

H1, H2 = "hub-one", "hub-two"
A, B = "instance/a", "instance/b"


@pytest.fixture
async def sql_store(store: EventStore) -> SQLEventStore:
    """H1: A at versions 1-3 (positions 1-3), B at 1-5 (4-8); H2: A at 1-6 (1-6)."""
    assert isinstance(store, SQLEventStore)
    await store.append(H1, A, checks(3))
    await store.append(H1, B, checks(5))
    await store.append(H2, A, checks(6))
    return store


def run(store: SQLEventStore, *statements: str) -> None:
    with store.engine.begin() as conn:
        for sql in statements:
            conn.exec_driver_sql(sql)


def repair(store: SQLEventStore, hub_id: str, stream: str) -> bool:
    with store.engine.connect() as conn:
        return raise_counters(conn, hub_id, stream)


def counters(store: SQLEventStore) -> dict[str, int]:
    with store.engine.connect() as conn:
        heads = conn.exec_driver_sql("SELECT hub_id, head FROM hublog_hubs").all()
        versions = conn.exec_driver_sql("SELECT hub_id, stream, version FROM hublog_streams").all()
    return {h: head for h, head in heads} | {f"{h} {s}": v for h, s, v in versions}


IN_LINE = {H1: 8, H2: 6, f"{H1} {A}": 3, f"{H1} {B}": 5, f"{H2} {A}": 6}


async def test_a_lowered_stream_version_goes_up_to_its_own_streams_last_version(
    sql_store: SQLEventStore,
) -> None:
    run(
        sql_store,
        "UPDATE hublog_streams SET version = 1 WHERE hub_id = 'hub-one' AND stream = 'instance/a'",
        # lowered too, and left alone: another stream of the hub, the same stream of another
        "UPDATE hublog_streams SET version = 2 WHERE hub_id = 'hub-one' AND stream = 'instance/b'",
        "UPDATE hublog_streams SET version = 2 WHERE hub_id = 'hub-two'",
    )

    assert repair(sql_store, H1, A) is True

    assert counters(sql_store) == IN_LINE | {f"{H1} {B}": 2, f"{H2} {A}": 2}


async def test_a_lowered_head_goes_up_to_its_hubs_last_position_and_no_other_hub_moves(
    sql_store: SQLEventStore,
) -> None:
    run(
        sql_store,
        "UPDATE hublog_hubs SET head = 1 WHERE hub_id = 'hub-one'",
        "UPDATE hublog_hubs SET head = 2 WHERE hub_id = 'hub-two'",
    )

    assert repair(sql_store, H1, A) is True

    assert counters(sql_store) == IN_LINE | {H2: 2}


async def test_counters_above_what_the_log_holds_are_never_lowered(
    sql_store: SQLEventStore,
) -> None:
    # Retention-like: the log's last position (B's version 5) and A's last version are gone.
    run(sql_store, "DELETE FROM hublog_events WHERE hub_id = 'hub-one' AND position IN (3, 8)")

    assert repair(sql_store, H1, A) is False

    assert counters(sql_store) == IN_LINE


async def test_counters_in_line_with_the_log_are_not_reported_as_raised(
    sql_store: SQLEventStore,
) -> None:
    assert repair(sql_store, H1, A) is False
    assert repair(sql_store, H2, A) is False

    assert counters(sql_store) == IN_LINE
