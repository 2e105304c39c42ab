"""What wakes a waiting subscriber besides its own process's appends: on
PostgreSQL the NOTIFY an append's head upsert sends (its payload is the new
head), and with no follower at all the plain poll (``poll_interval``)."""

from __future__ import annotations

import time

import anyio
import psycopg
import pytest
import sqlalchemy as sa

from adapters.sql import SQLEventStore
from adapters.sql.follow import Follower, channel, notify
from tests import services
from tests.eventstore.contract.factories import checks

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"


def hub_channel(engine: sa.Engine, hub_id: str) -> str:
    with engine.connect() as conn:
        name = conn.scalar(sa.select(channel(sa.literal(hub_id, sa.Text))))
    assert isinstance(name, str)
    return name


def listening(engine: sa.Engine, hub_id: str) -> psycopg.Connection:
    """A connection of the same database LISTENing on the hub's channel."""
    conn = psycopg.connect(services.PG_ADMIN_URL, autocommit=True)
    conn.execute(
        psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(hub_channel(engine, hub_id)))
    )
    return conn


def payloads(conn: psycopg.Connection, until: str) -> list[str]:
    """The payloads received, up to and including ``until`` (or 5 s)."""
    got: list[str] = []
    for note in conn.notifies(timeout=5):
        got.append(note.payload)
        if note.payload == until:
            break
    return got


@pytest.mark.external_service
async def test_notify_sends_the_new_head_as_text_on_the_hubs_channel(pg_url: str) -> None:
    async with SQLEventStore(pg_url) as store:
        listener = listening(store.engine, HUB)
        try:
            with store.engine.begin() as conn:
                conn.execute(sa.select(notify(sa.literal(HUB, sa.Text), sa.literal(7))))
            assert payloads(listener, "7") == ["7"]
        finally:
            listener.close()


@pytest.mark.external_service
async def test_the_step_by_step_append_notifies_the_head_it_committed(pg_url: str) -> None:
    """A head lowered behind hublog's back sends the append down the
    step-by-step path (the one-statement append collides), which notifies
    from its own head upsert."""
    async with SQLEventStore(pg_url) as store:
        await store.append(HUB, A, checks(3))
        with store.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE hublog_hubs SET head = 1")
        listener = listening(store.engine, HUB)
        try:
            assert list((await store.append(HUB, A, checks(1))).positions) == [4]
            got = payloads(listener, "4")
        finally:
            listener.close()

    assert got[-1] == "4"
    assert all(p.isdigit() for p in got), got


async def test_with_no_follower_a_waiting_subscriber_reads_again_after_the_poll_interval() -> None:
    follower = Follower(poll_interval=0.05)
    start = time.monotonic()
    with anyio.fail_after(5):
        await follower.wait(HUB, 0, anyio.Event())
    assert time.monotonic() - start >= 0.04


async def test_with_no_follower_an_append_of_this_process_wakes_a_subscriber_at_once() -> None:
    follower = Follower(poll_interval=60)
    woken = anyio.Event()
    woken.set()
    with anyio.fail_after(5):
        await follower.wait(HUB, 0, woken)
