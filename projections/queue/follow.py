"""How a waiter learns that a slot may have freed: it follows the hub's log
(``store.subscribe``: SQL follows in milliseconds by LISTEN/NOTIFY or
``data_version``, Redis by ``XREAD BLOCK``) and is woken by the events that
can free a slot or change who may take it; a short re-check covers the rest
(a dead waiter's heartbeat running out is no event at all).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from contextlib import aclosing
from typing import Any, TypeVar

import anyio

from eventstore import streams
from eventstore.errors import EventStoreError
from eventstore.events import (
    LockExpired,
    LockReleased,
    RequestAbandoned,
    RequestExpired,
    RequestGranted,
)
from eventstore.store import EventStore

FREEING = (LockReleased, LockExpired, RequestGranted, RequestAbandoned, RequestExpired)
"""A slot freed, or a waiter ahead left the queue."""
T = TypeVar("T")
RESHAPING = frozenset({"instance", "hub"})
"""An instance came, went or changed health: the pool must be read again."""


class Waker:
    """Set by the follower, waited on by the reserve loop."""

    def __init__(self) -> None:
        self._event = anyio.Event()
        self.pool_changed = True
        self.following = False

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
                if isinstance(recorded.event, FREEING):
                    waker.poke()
                elif streams.category_of(recorded.stream) in RESHAPING:
                    waker.poke(pool=True)
    except EventStoreError:
        # The subscription failed (the backend went away): the re-check
        # keeps the waiter going, and its own calls will report the outage.
        pass
    finally:
        waker.following = False
