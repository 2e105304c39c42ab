"""How a waiter learns that a slot may have freed: it follows the hub's log
(``store.subscribe``: SQL follows in milliseconds by LISTEN/NOTIFY or
``data_version``, Redis by ``XREAD BLOCK``) and is woken by the events that
can free a slot or change who may take it; a short re-check covers the rest
(a dead waiter's heartbeat running out is no event at all).

Only the events that could change *this* waiter's chance wake it: a slot
freed on an instance it could use, or a request ahead of it (or itself)
leaving the queue.  Waking every waiter on every release made each one
read the queue and the lock per event — with a dozen waiters, a dozen
reads per grant for one winner.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from contextlib import aclosing
from typing import Any, TypeVar

import anyio

from eventstore import streams
from eventstore.envelope import RecordedEvent
from eventstore.errors import EventStoreError
from eventstore.events import (
    LockExpired,
    LockReleased,
    RequestAbandoned,
    RequestExpired,
    RequestGranted,
)
from eventstore.store import EventStore

FREED = (LockReleased, LockExpired)
"""A slot freed."""
LEFT = (RequestGranted, RequestAbandoned, RequestExpired)
"""A waiter left the queue."""
T = TypeVar("T")
RESHAPING = frozenset({"instance", "hub"})
"""An instance came, went or changed health: the pool must be read again."""


class Waker:
    """Set by the follower, waited on by the reserve loop."""

    def __init__(self) -> None:
        self._event = anyio.Event()
        self.pool_changed = True
        self.following = False
        self.request_id: str | None = None
        """The waiter's place in the queue (None: wake on every departure)."""
        self.usable: frozenset[str] | None = None
        """The instances the waiter could use (None: wake on every release)."""

    def concerns(self, recorded: RecordedEvent) -> bool:
        """Whether ``recorded`` may let this waiter in: a slot freed where it
        could use one, or someone ahead of it (or itself) left the queue.
        Wrongly True costs a read; wrongly False a re-check interval."""
        e = recorded.event
        if isinstance(e, FREED):
            resource = streams.entity_of(recorded.stream)
            return self.usable is None or resource in self.usable
        if not isinstance(e, LEFT):
            return False
        mine = next((w for w in e.waiting if w.request_id == self.request_id), None)
        if mine is None:
            return True  # not waiting (yet, or any more): look
        # The queue is in arrival order and queued_at never goes back: one
        # that queued after this waiter was behind it.
        return e.queued_at <= mine.queued_at

    def poke(self, *, pool: bool = False) -> None:
        self.pool_changed = self.pool_changed or pool
        self._event.set()

    async def wait(self, timeout: float) -> None:
        """Until poked or ``timeout`` seconds passed (then re-check anyway)."""
        with anyio.move_on_after(max(timeout, 0.0)):
            await self._event.wait()
        self._event = anyio.Event()


async def waiting(
    store: EventStore,
    hub_id: str,
    after: int,
    body: Callable[[Waker], Awaitable[T]],
    beside: Callable[[], Coroutine[Any, Any, None]],
) -> T:
    """``body(waker)`` with a :class:`Waker` poked by the hub's events after
    position ``after``, and ``beside()`` running alongside until it ends;
    what ``body`` returns or raises (unwrapped: the task group never turns
    the caller's error into an ExceptionGroup)."""
    waker = Waker()
    failure: Exception | None = None
    result: T | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(_follow, store, hub_id, after, waker)
        tg.start_soon(beside)
        try:
            result = await body(waker)
        except Exception as exc:  # noqa: BLE001 - re-raised below, as it was
            failure = exc
        finally:
            tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return result  # type: ignore[return-value]


async def _follow(store: EventStore, hub_id: str, after: int, waker: Waker) -> None:
    waker.following = True
    try:
        async with aclosing(store.subscribe(hub_id, after=after)) as events:
            async for recorded in events:
                if streams.category_of(recorded.stream) in RESHAPING:
                    waker.poke(pool=True)
                elif waker.concerns(recorded):
                    waker.poke()
    except EventStoreError:
        # The subscription failed (the backend went away): the re-check
        # keeps the waiter going, and its own calls will report the outage.
        pass
    finally:
        waker.following = False
