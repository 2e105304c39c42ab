"""Following other processes' appends on SQL (adapters/sql/follow/): every
event once, in order, when the change signal arrives, is lost, or races the
subscriber; and close leaves no thread or connection behind.

Subscribers here run with no safety net (``poll_interval=3600``) unless the
test is about the safety net, so delivery must come from the change signal
(PostgreSQL LISTEN/NOTIFY, SQLite's data_version check).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Any

import anyio
import pytest
import sqlalchemy as sa

from adapters import open_store
from adapters.sql import SQLEventStore, create_engine
from adapters.sql.settings import SQLSettings
from eventstore import EventStore, StoreConfigurationError, StoredEvent
from tests.eventstore.contract.factories import checks

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"
NO_NET = {"poll_interval": 3600}  # no safety net: the change signal must deliver
ROOT = Path(__file__).resolve().parents[3]
CASES = [
    ("sqlite", "asyncio"),
    ("sqlite", "trio"),
    ("postgresql", "asyncio"),
    ("postgresql", "trio"),
]

WRITER = """
import sys
sys.path.insert(0, sys.argv[1])
import anyio
from adapters import open_store
from tests.eventstore.contract.factories import checks

async def main(url: str, n: int) -> None:
    async with open_store(url) as store:
        for _ in range(n):
            await store.append("ollama-pool", "instance/a", checks(1))
            await anyio.sleep(0.01)

anyio.run(main, sys.argv[2], int(sys.argv[3]))
"""


@pytest.fixture(params=CASES, ids=[f"{kind}-{lib}" for kind, lib in CASES])
def case(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param


@pytest.fixture
def anyio_backend(case: tuple[str, str]) -> str:
    return case[1]


@pytest.fixture
def url(case: tuple[str, str], make_url: Callable[[str], str]) -> str:
    return make_url(case[0])


async def follow(store: EventStore, hub: str, n: int, into: list[int], after: int = 0) -> None:
    async with aclosing(store.subscribe(hub, after=after)) as events:
        async for event in events:
            into.append(event.position)
            if len(into) == n:
                return


async def until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition`` (the test's fail_after bounds it)."""
    while not condition():
        await anyio.sleep(0.01)


def follower_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("hublog-")]


async def test_a_subscriber_follows_a_writer_in_another_process(url: str) -> None:
    seen: list[int] = []
    async with open_store(url, **NO_NET) as store:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(follow, store, HUB, 20, seen)
                await anyio.run_process([sys.executable, "-c", WRITER, str(ROOT), url, "20"])

    assert seen == list(range(1, 21))


async def test_many_subscribers_of_many_hubs_each_see_their_hub_once(url: str) -> None:
    hubs = ["hub-a", "hub-b", "hub-c"]
    seen: dict[tuple[str, int], list[int]] = {(h, n): [] for h in hubs for n in range(3)}
    async with open_store(url, **NO_NET) as store, open_store(url) as writer:
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for (hub, _), into in seen.items():
                    tg.start_soon(follow, store, hub, 10, into)
                for _ in range(10):
                    for hub in hubs:
                        await writer.append(hub, A, checks(1))

    assert all(positions == list(range(1, 11)) for positions in seen.values())


class RacingStore(SQLEventStore):
    """Appends through another store right after one page read, so that the
    append and its change signal land between the subscriber's read and its wait."""

    race: Callable[[], Awaitable[None]] | None = None

    async def _read_log_page(self, hub_id: str, *, after: int, limit: int) -> Sequence[StoredEvent]:
        page = await super()._read_log_page(hub_id, after=after, limit=limit)
        if self.race is not None and page:
            race, self.race = self.race, None
            await race()
        return page


async def test_an_append_between_the_read_and_the_wait_is_not_missed(url: str) -> None:
    seen: list[int] = []
    store = RacingStore(url, auto_migrate=True, **NO_NET)
    async with store, open_store(url) as writer:
        await writer.append(HUB, A, checks(1))

        async def race() -> None:
            await writer.append(HUB, A, checks(1))
            await anyio.sleep(0.1)  # the follower takes the signal in before the wait

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(follow, store, HUB, 3, seen)
                await until(lambda: seen == [1])
                store.race = race  # on the read that finds position 2
                await writer.append(HUB, A, checks(1))

    assert seen == [1, 2, 3]


async def test_a_killed_listener_connection_misses_and_repeats_nothing(url: str) -> None:
    seen: list[int] = []
    async with open_store(url, **NO_NET) as store, open_store(url) as writer:
        assert isinstance(store, SQLEventStore)
        follower: Any = store.follower
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(follow, store, HUB, 8, seen)
                await writer.append(HUB, A, checks(3))
                await until(lambda: len(seen) == 3 and follower.connection is not None)
                killed = follower.connection
                await kill(store, follower)
                await writer.append(HUB, A, checks(3))  # likely while it reconnects
                await until(lambda: follower.connection not in (None, killed))
                await until(lambda: len(seen) == 6)
                await writer.append(HUB, A, checks(2))  # and live again afterwards

    assert seen == list(range(1, 9))


async def kill(store: SQLEventStore, follower: Any) -> None:
    """Cut the follower's connection from outside, as a server or network would."""
    if store.dialect == "postgresql":
        engine = create_engine(store.settings.url)
        with engine.begin() as conn:
            conn.execute(
                sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": follower.backend_pid}
            )
        engine.dispose()
    else:
        follower.drop_connection()  # its next PRAGMA fails; it reconnects


async def test_appends_whose_notify_was_dropped_come_with_the_safety_net(pg_url: str) -> None:
    seen: list[int] = []
    engine = create_engine(pg_url)

    @sa.event.listens_for(engine, "before_cursor_execute", retval=True)
    def drop_notify(conn, cursor, statement, parameters, context, executemany):
        # The same append transaction, with the NOTIFY turned into a no-op.
        return statement.replace("pg_notify(", "concat("), parameters

    async with open_store(pg_url, poll_interval=0.2) as store, SQLEventStore(engine) as writer:
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(follow, store, HUB, 5, seen)
                await writer.append(HUB, A, checks(3))
                await until(lambda: len(seen) == 3)
                sa.event.remove(engine, "before_cursor_execute", drop_notify)
                await writer.append(HUB, A, checks(2))
    engine.dispose()

    assert seen == [1, 2, 3, 4, 5]


async def test_closing_the_store_ends_its_follower_thread_and_connection(url: str) -> None:
    seen: list[int] = []
    store = await open_store(url, **NO_NET)
    assert isinstance(store, SQLEventStore)
    follower: Any = store.follower
    await store.append(HUB, A, checks(1))
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow, store, HUB, 100, seen)
            await until(lambda: seen == [1] and follower.connection is not None)
            pid = getattr(follower, "backend_pid", None)
            await store.close()  # ends the subscription too
        if pid is not None:
            await until(lambda: not backend_alive(url, pid))

    assert follower_threads() == []
    assert follower.connection is None


def backend_alive(url: str, pid: int) -> bool:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.scalar(
            sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        )
    engine.dispose()
    return bool(found)


def test_follow_options_come_from_the_url_and_keywords() -> None:
    url = "postgresql://db/x?listen=false&poll_interval=2&change_check_interval=0"
    settings = SQLSettings.from_url(url)
    assert (settings.listen, settings.poll_interval, settings.change_check_interval) == (
        False,
        2.0,
        0.0,
    )
    assert SQLSettings.from_url(url, listen=True).listen is True
    assert "listen" not in str(settings.sqlalchemy_url())  # never handed to the driver
    with pytest.raises(StoreConfigurationError, match="change_check_interval"):
        SQLSettings.from_url("sqlite:///x.db?change_check_interval=-1")
    with pytest.raises(StoreConfigurationError, match="listen"):
        SQLSettings.from_url("sqlite:///x.db", listen="sometimes")
