"""The parts of following (adapters/sql/follow/) that the end-to-end tests
of test_follow.py cannot pin down: KnownHeads on its own (threads, short
limits), what the PostgreSQL listener makes of notifications it did not
expect, the SQLite change check's cadence and parking, and the worker
threads of waiting subscribers.

Subscribers here run with no safety net (``poll_interval=3600``) unless the
test is about the safety net, so a wait that returns was ended by the
follower.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import sqlalchemy as sa

from adapters import open_store
from adapters.sql import SQLEventStore, create_engine
from adapters.sql import follow as follow_module
from adapters.sql.follow import sqlite as change_check_module
from adapters.sql.engine import Database
from adapters.sql.follow import KnownHeads, SQLiteChangeCheck, channel
from adapters.sql.settings import SQLSettings
from tests.eventstore.contract.factories import checks
from tests.deadlines import within

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
OTHER = "vllm-pool"
A = "instance/a"
NO_NET = {"poll_interval": 3600}  # no safety net: the change signal must deliver
THREAD_LIMIT = 5.0
"""Seconds a thread of these tests may take to reach a state (a hang, not slowness)."""


@pytest.fixture
def sqlite_url(make_url: Callable[[str], str]) -> str:
    return make_url("sqlite")


class Waiter(threading.Thread):
    """Runs one blocking call of KnownHeads, keeping what it raised."""

    def __init__(self, fn: Callable[..., None], *args: Any) -> None:
        super().__init__(daemon=True)
        self.fn, self.args = fn, args
        self.error: Exception | None = None
        self.start()

    def run(self) -> None:
        try:
            self.fn(*self.args)
        except Exception as exc:  # noqa: BLE001 (reported by ended())
            self.error = exc


def ended(waiter: Waiter) -> bool:
    """True once the call returned without raising (False after the limit)."""
    waiter.join(THREAD_LIMIT)
    assert waiter.error is None, waiter.error
    return not waiter.is_alive()


def still_blocked(waiter: Waiter) -> bool:
    """The call has not returned after a moment (the original never returns here)."""
    waiter.join(0.05)
    return waiter.is_alive()


def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + THREAD_LIMIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {THREAD_LIMIT:g} s")
        time.sleep(0.001)


def waiting_once_settled(heads: KnownHeads, waiter: Waiter) -> int:
    """``heads.waiting`` once ``waiter`` waits in it or has returned."""
    eventually(lambda: heads.waiting > 0 or not waiter.is_alive(), "the waiter's arrival")
    heads.watched()  # takes the lock: the waiter now blocks in wait_for, or has left
    return heads.waiting


# KnownHeads


def test_a_hub_is_watched_once_and_starts_at_head_zero() -> None:
    heads = KnownHeads()

    assert [heads.watch(HUB), heads.watch(HUB)] == [True, False]
    assert (heads.watched(), len(heads)) == ([HUB], 1)
    assert (heads.past(HUB, -1), heads.past(HUB, 0)) == (True, False)


def test_a_known_head_only_rises_and_only_for_watched_hubs() -> None:
    heads = KnownHeads()
    heads.watch(HUB)
    heads.raise_to(HUB, 3)
    heads.raise_to(HUB, 2)
    heads.raise_to(OTHER, 5)  # not watched: not tracked

    assert (heads.past(HUB, 2), heads.past(HUB, 3)) == (True, False)
    assert (heads.past(OTHER, -1), heads.past(OTHER, 0)) == (True, False)
    assert heads.watched() == [HUB]


def test_once_closed_every_hub_counts_as_past() -> None:
    heads = KnownHeads()
    heads.watch(HUB)
    heads.close()

    assert (heads.past(HUB, 10), heads.past(OTHER, 10)) == (True, True)


def test_a_waiter_blocks_until_the_head_passes_its_position() -> None:
    heads = KnownHeads()
    heads.watch(HUB)
    heads.raise_to(HUB, 1)
    waiter = Waiter(heads.wait_past, HUB, 1, threading.Event())

    assert waiting_once_settled(heads, waiter) == 1
    heads.raise_to(HUB, 2)
    assert ended(waiter)
    assert heads.waiting == 0


def test_a_waiter_on_a_hub_nobody_watches_blocks_until_abandoned() -> None:
    heads = KnownHeads()
    abandoned = threading.Event()
    waiter = Waiter(heads.wait_past, OTHER, 0, abandoned)

    assert waiting_once_settled(heads, waiter) == 1
    heads.abandon(abandoned)
    assert ended(waiter)
    assert heads.waiting == 0


def test_closing_ends_every_waiter() -> None:
    heads = KnownHeads()
    heads.watch(HUB)
    waiters = [Waiter(heads.wait_past, HUB, 5, threading.Event()) for _ in range(2)]
    eventually(lambda: heads.waiting == 2, "two waiters")

    heads.close()

    assert [ended(waiter) for waiter in waiters] == [True, True]
    assert heads.waiting == 0


def test_each_waiter_counts_while_it_waits() -> None:
    heads = KnownHeads()
    heads.watch(HUB)
    heads.watch(OTHER)
    first, second = threading.Event(), threading.Event()

    one = Waiter(heads.wait_past, HUB, 0, first)
    eventually(lambda: heads.waiting == 1, "one waiter")
    two = Waiter(heads.wait_past, OTHER, 0, second)
    eventually(lambda: heads.waiting == 2, "two waiters")
    heads.raise_to(HUB, 1)
    assert ended(one)
    assert heads.waiting == 1
    heads.abandon(second)
    assert ended(two)
    assert heads.waiting == 0


def test_park_blocks_while_nobody_waits_and_returns_when_someone_does() -> None:
    heads = KnownHeads()
    heads.watch(HUB)
    parked = Waiter(heads.park)
    assert still_blocked(parked)

    abandoned = threading.Event()
    waiter = Waiter(heads.wait_past, HUB, 0, abandoned)
    assert ended(parked)
    heads.abandon(abandoned)
    assert ended(waiter)


class CountingHeads(KnownHeads):
    """KnownHeads that count how often a follower's thread looks at them."""

    def __init__(self) -> None:
        super().__init__()
        self.looks = 0
        self.waits = 0

    def watched(self) -> list[str]:
        self.looks += 1
        return super().watched()

    def __len__(self) -> int:
        self.looks += 1
        return super().__len__()

    def wait_past(self, hub_id: str, after: int, abandoned: threading.Event) -> None:
        self.waits += 1
        super().wait_past(hub_id, after, abandoned)


async def until_quiet(heads: CountingHeads) -> None:
    """Return once the follower's thread stopped looking at the heads for a while."""
    with within("the follower's thread coming to rest", 5):
        while True:
            before = heads.looks
            await anyio.sleep(0.1)
            if heads.looks == before:
                return


async def until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition`` (the caller's time limit bounds it)."""
    while not condition():
        await anyio.sleep(0.005)


# Both followers


@pytest.mark.parametrize(
    ("kind", "thread_name"),
    [("sqlite", "hublog-change-check"), ("postgresql", "hublog-listener")],
)
async def test_the_follower_runs_in_one_named_daemon_thread(
    kind: str, thread_name: str, make_url: Callable[[str], str]
) -> None:
    async with open_store(make_url(kind), **NO_NET) as store:
        await store.append(HUB, A, checks(1))
        with within("the first wait"):
            await store.follower.wait(HUB, 0, anyio.Event())
        threads = [(t.name, t.daemon) for t in threading.enumerate() if t.name == thread_name]

    assert threads == [(thread_name, True)]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_a_waiter_behind_the_known_head_returns_without_a_worker_thread(
    kind: str, make_url: Callable[[str], str]
) -> None:
    async with open_store(make_url(kind), **NO_NET) as store:
        assert isinstance(store, SQLEventStore)
        heads = store.follower.heads = CountingHeads()  # type: ignore[attr-defined]
        await store.append(HUB, A, checks(1))
        with within("the first wait"):
            await store.follower.wait(HUB, 0, anyio.Event())
        waits = heads.waits
        with within("the second wait"):
            await store.follower.wait(HUB, 0, anyio.Event())

    assert heads.waits == waits


async def test_a_waiter_the_follower_never_wakes_returns_after_the_poll_interval(
    sqlite_url: str,
) -> None:
    async with open_store(sqlite_url, poll_interval=0.05) as store:
        with within("a wait with the safety net at 0.05 s"):
            await store.follower.wait(HUB, 100, anyio.Event())
        assert not store.follower.heads.past(HUB, 100)  # type: ignore[attr-defined]


async def test_a_waiter_is_woken_while_as_many_others_as_anyio_has_threads_wait(
    sqlite_url: str,
) -> None:
    """Waiting subscribers have their own worker threads: anyio's default
    ones (40) all blocked in waits on a quiet hub leave the rest working."""
    quiet = anyio.to_thread.current_default_thread_limiter().total_tokens
    async with open_store(sqlite_url, **NO_NET) as store:
        follower: Any = store.follower
        await store.append(HUB, A, checks(1))
        with within("a wait beside the quiet waiters", 10):
            async with anyio.create_task_group() as tg:
                for _ in range(int(quiet)):
                    tg.start_soon(follower.wait, "quiet-hub", 0, anyio.Event())
                await until(lambda: follower.heads.waiting == quiet)
                await follower.wait(HUB, 0, anyio.Event())
                assert follower.heads.past(HUB, 0)
                tg.cancel_scope.cancel()


# PostgreSQL: what the listener makes of its notifications


def hub_channel(engine: sa.Engine, hub_id: str) -> str:
    with engine.connect() as conn:
        name = conn.scalar(sa.select(channel(sa.literal(hub_id, sa.Text))))
    assert isinstance(name, str)
    return name


def notify_by_hand(
    engine: sa.Engine, hub_id: str, payload: str, *, head: int | None = None
) -> None:
    """NOTIFY the hub's channel outside hublog; with ``head``, also set the
    hub's head behind hublog's back (in the same transaction)."""
    name = hub_channel(engine, hub_id)
    with engine.begin() as conn:
        if head is not None:
            conn.execute(
                sa.text("UPDATE hublog_hubs SET head = :head WHERE hub_id = :hub"),
                {"head": head, "hub": hub_id},
            )
        conn.execute(sa.select(sa.func.pg_notify(name, payload)))


async def listening_at(store: SQLEventStore, head: int) -> None:
    """Start the store's listener on HUB; return once it knows ``head``
    (read after its LISTEN, so any notification from now on reaches it)."""
    with within("the listener's first read of the heads"):
        await store.follower.wait(HUB, head - 1, anyio.Event())


async def test_the_listener_takes_the_head_a_notification_carries(pg_url: str) -> None:
    async with open_store(pg_url, **NO_NET) as store:
        assert isinstance(store, SQLEventStore)
        await store.append(HUB, A, checks(1))
        await listening_at(store, 1)

        notify_by_hand(store.engine, HUB, "5")  # the table still says 1
        with within("a wait for the notified head"):
            await store.follower.wait(HUB, 4, anyio.Event())
        heads = store.follower.heads  # type: ignore[attr-defined]
        assert (heads.past(HUB, 4), heads.past(HUB, 5)) == (True, False)


@pytest.mark.timeout(30, method="thread")  # a deadlocked listener blocks every signal
async def test_a_notification_that_is_not_a_head_makes_the_listener_read_the_table(
    pg_url: str,
) -> None:
    """psycopg's notifies() holds the connection's lock while it yields: the
    listener that read the table inside that loop hung for good (every
    subscriber of the store then fell back on its poll interval)."""
    async with open_store(pg_url, **NO_NET) as store:
        assert isinstance(store, SQLEventStore)
        await store.append(HUB, A, checks(1))
        await listening_at(store, 1)

        notify_by_hand(store.engine, HUB, "not a head", head=9)
        with within("a wait for the head in the table"):
            await store.follower.wait(HUB, 8, anyio.Event())
        heads = store.follower.heads  # type: ignore[attr-defined]
        assert (heads.past(HUB, 8), heads.past(HUB, 9)) == (True, False)


async def test_the_listener_connection_is_named_hublog_listener(pg_url: str) -> None:
    async with open_store(pg_url, **NO_NET) as store:
        assert isinstance(store, SQLEventStore)
        await store.append(HUB, A, checks(1))
        await listening_at(store, 1)
        pid = store.follower.backend_pid  # type: ignore[attr-defined]
        with store.engine.connect() as conn:
            name = conn.scalar(
                sa.text("SELECT application_name FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": pid},
            )

    assert name == "hublog-listener"


async def test_the_listener_blocks_between_notifications(pg_url: str) -> None:
    """After a wake-up (here: the first hub watched) the listener drains it
    and blocks again instead of spinning."""
    async with open_store(pg_url, **NO_NET) as store:
        assert isinstance(store, SQLEventStore)
        heads = store.follower.heads = CountingHeads()  # type: ignore[attr-defined]
        await store.append(HUB, A, checks(1))
        await listening_at(store, 1)

        await until_quiet(heads)


# SQLite: the change check


async def test_the_change_check_stops_checking_while_nobody_waits(sqlite_url: str) -> None:
    async with open_store(sqlite_url, **NO_NET) as store:
        assert isinstance(store, SQLEventStore)
        heads = store.follower.heads = CountingHeads()  # type: ignore[attr-defined]
        await store.append(HUB, A, checks(1))
        with within("the first wait"):
            await store.follower.wait(HUB, 0, anyio.Event())

        await until_quiet(heads)


async def test_the_change_check_reads_the_head_of_a_newly_watched_hub_without_a_commit(
    sqlite_url: str,
) -> None:
    async with open_store(sqlite_url, **NO_NET) as store:
        await store.append(HUB, A, checks(1))
        await store.append(OTHER, A, checks(2))
        follower: Any = store.follower
        with within("the first hub's wait"):
            await follower.wait(HUB, 0, anyio.Event())
        with within("the second hub's wait (nothing committed since the first)"):
            await follower.wait(OTHER, 1, anyio.Event())

        assert (follower.heads.past(OTHER, 1), follower.heads.past(OTHER, 2)) == (True, False)


class ScriptedClock:
    """Stands in for the follow module's ``time``: notes every sleep the
    change check asks for, and runs the script's step at that sleep (by
    its number, from 1) instead of sleeping."""

    monotonic = staticmethod(time.monotonic)

    def __init__(self, script: dict[int, Callable[[], None]]) -> None:
        self.slept: list[float] = []
        self.script = script

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        step = self.script.get(len(self.slept))
        if step is not None:
            step()
        time.sleep(0.001)


def sqlite_path(url: str) -> Path:
    return Path(sa.make_url(url).database or "")


async def test_the_change_check_slows_down_after_a_quiet_second_until_the_next_commit(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 0.25 s a quiet second is 4 quiet checks: the 5th check after the
    last commit still sleeps 0.25 s, the 6th sleeps 4 times longer, and a
    commit by another connection brings back the short sleep."""

    def commit_elsewhere() -> None:
        with sqlite3.connect(sqlite_path(sqlite_url)) as conn:
            conn.execute("INSERT INTO hublog_hubs (hub_id, head) VALUES ('elsewhere', 1)")
        conn.close()

    nine = threading.Event()
    clock = ScriptedClock({7: commit_elsewhere, 9: nine.set})
    monkeypatch.setattr(change_check_module, "time", clock)
    async with open_store(sqlite_url, change_check_interval=0.25, **NO_NET) as store:
        with within("nine checks of a waiting subscriber"):
            async with anyio.create_task_group() as tg:
                tg.start_soon(store.follower.wait, HUB, 10**9, anyio.Event())
                await until(nine.is_set)
                tg.cancel_scope.cancel()

    assert clock.slept[:9] == [0.25, 0.25, 0.25, 0.25, 0.25, 1.0, 1.0, 0.25, 0.25]


class Statements:
    """A sqlite3 connection that notes how many values each statement binds."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.bound: list[int] = []

    def execute(self, query: str, params: list[str]) -> sqlite3.Cursor:
        self.bound.append(len(params))
        return self.conn.execute(query, params)


@pytest.fixture
def sqlite_database(sqlite_url: str) -> Iterator[Database]:
    engine = create_engine(sqlite_url)
    yield Database.of(engine)
    engine.dispose()


def test_the_change_check_reads_the_heads_of_many_hubs_500_at_a_time(
    sqlite_url: str, sqlite_database: Database
) -> None:
    hub_ids = [f"hub-{n:04}" for n in range(1200)]
    with sqlite3.connect(sqlite_path(sqlite_url)) as conn:
        conn.executemany(
            "INSERT INTO hublog_hubs (hub_id, head) VALUES (?, ?)",
            [(hub_id, n + 1) for n, hub_id in enumerate(hub_ids)],
        )
    check = SQLiteChangeCheck(sqlite_database, 3600, 0.005)
    for hub_id in hub_ids:
        check.heads.watch(hub_id)

    statements = Statements(conn)
    check._read_heads(statements, hub_ids)  # type: ignore[arg-type]
    conn.close()

    assert statements.bound == [500, 500, 200]
    assert [h for n, h in enumerate(hub_ids) if not check.heads.past(h, n)] == []
    assert [h for n, h in enumerate(hub_ids) if check.heads.past(h, n + 1)] == []


# Which follower a store gets, and its safety net

SQLITE_MEMORY = ["sqlite://", "sqlite:///:memory:", "sqlite:///"]
"""SQLite without a file another connection could commit to: ``sqlite:///``
(an empty path) is a private temporary database per connection."""


def follower_of(url: str, dialect: str, **options: Any) -> follow_module.Follower:
    engine = sa.create_engine(url)
    try:
        return follow_module.follower_for(
            Database.of(engine), SQLSettings(url=url, dialect=dialect, **options)
        )
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", SQLITE_MEMORY)
def test_sqlite_without_a_file_gets_the_plain_poll(url: str) -> None:
    assert type(follower_of(url, "sqlite")) is follow_module.Follower


def test_a_sqlite_file_gets_the_change_check_unless_it_is_turned_off(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hublog.db'}"

    checking = follower_of(url, "sqlite", change_check_interval=0.01, poll_interval=7.0)
    plain = follower_of(url, "sqlite", change_check_interval=0, poll_interval=7.0)

    assert type(checking) is SQLiteChangeCheck
    assert (checking.interval, checking.poll_interval) == (0.01, 7.0)
    assert type(plain) is follow_module.Follower
    assert plain.poll_interval == 7.0


def test_postgresql_gets_the_listener_unless_listen_is_off() -> None:
    # Building a follower opens no connection: no server is needed.
    url = "postgresql+psycopg://hublog@127.0.0.1:5432/test"

    listener = follower_of(url, "postgresql", poll_interval=7.0)
    plain = follower_of(url, "postgresql", listen=False, poll_interval=7.0)

    assert type(listener) is follow_module.PostgresListener
    assert listener.poll_interval == 7.0
    listener.close()
    assert type(plain) is follow_module.Follower
    assert plain.poll_interval == 7.0


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("postgresql", {}),
        ("postgresql", {"listen": False}),
        ("sqlite", {"change_check_interval": 0}),
    ],
    ids=["listener", "postgresql poll", "sqlite poll"],
)
async def test_every_follower_returns_after_the_poll_interval_when_never_woken(
    kind: str, options: dict[str, Any], make_url: Callable[[str], str]
) -> None:
    async with open_store(make_url(kind), poll_interval=0.05, **options) as store:
        with within("a wait with the safety net at 0.05 s", 10):
            await store.follower.wait(HUB, 100, anyio.Event())


def test_a_follower_has_no_connection_until_its_thread_connects(
    sqlite_database: Database,
) -> None:
    check = SQLiteChangeCheck(sqlite_database, 3600, 0.005)

    assert check.connection is None
    check.drop_connection()  # nothing to drop: not an error
    check.close()
    assert check.connection is None


def test_a_listener_has_no_server_process_until_its_thread_connects() -> None:
    """``backend_pid`` is None (not a falsy stand-in) until connected: the
    tests that terminate the listener's server process read it."""
    engine = sa.create_engine("postgresql+psycopg://hublog@127.0.0.1:5432/test")
    listener = follow_module.PostgresListener(Database.of(engine), 3600)
    try:
        assert (listener.connection, listener.backend_pid) == (None, None)
    finally:
        listener.close()
        engine.dispose()


@pytest.mark.timeout(30, method="thread")  # a blocking wake-up hangs the event loop
def test_a_wake_up_never_blocks_even_with_the_listeners_socket_full() -> None:
    """Wake-ups sent while the listener's thread is not draining them (not
    started yet, or busy) fill the socket pair's buffer; a wake-up is
    pending then already, and the next one must return at once."""
    engine = sa.create_engine("postgresql+psycopg://hublog@127.0.0.1:5432/test")
    listener = follow_module.PostgresListener(Database.of(engine), 3600)
    try:
        for _ in range(100_000):  # far past any socket buffer (~200 KB here)
            listener._interrupt()
    finally:
        listener.close()
        engine.dispose()
    assert listener._wake_w.fileno() == -1  # closed with the listener
