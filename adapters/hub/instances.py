"""Instances on the log: the projected state of one instance stream, the
conditional append of a difference, and where an instance id lives.

Writes fold the instance's own stream (short: lifecycle and health changes
only) to get the state *and* the version it is at, and append expecting that
version; a writer that lost the race reads and diffs again, so two processes
saving the same instance never lose an update or register it twice.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing

import anyio

from eventstore import streams
from eventstore.envelope import ANY, NO_STREAM, ExpectedVersion
from eventstore.errors import BackendUnavailable, WrongExpectedVersion
from eventstore.events import Event
from eventstore.retry import RetryPolicy
from eventstore.store import EventStore
from projections import HubProjection, HubState, InstanceState

ATTEMPTS = 20
"""Lost races before ``WrongExpectedVersion`` leaves ``save_instance``."""
BACKOFF, BACKOFF_CAP = 0.001, 0.05
"""After the n-th lost race, wait a random time up to min(cap, 1 ms * 2**n),
as leases and the queue do."""
APPEND_RETRY = RetryPolicy(initial=0.05, cap=1.0, deadline=10.0)

_FOLD = HubProjection()


async def current(
    store: EventStore, hub_id: str, instance_id: str
) -> tuple[InstanceState | None, int]:
    """The instance as its stream says now, and the stream's version.

    Raises: BackendUnavailable, InvalidEventError (a bad id), StoreClosed.
    """
    state: HubState = _FOLD.initial()
    version = 0
    stream = streams.instance(instance_id)
    async with aclosing(store.read_stream(hub_id, stream)) as events:
        async for event in events:
            state = _FOLD.apply(state, event)
            version = event.version
    return state.instances.get(instance_id), version


Decide = Callable[[InstanceState | None], Awaitable[Sequence[Event]]]


async def change(store: EventStore, hub_id: str, instance_id: str, decide: Decide) -> int:
    """Read the instance, ``decide`` what to append, append it expecting the
    version read; on a lost race do it all again.  Returns how many events
    were appended (0: nothing to change).

    Raises: WrongExpectedVersion after ATTEMPTS lost races; BackendUnavailable
    once retries of the same events run out; InvalidEventError.
    """
    stream = streams.instance(instance_id)
    for attempt in range(ATTEMPTS):
        state, version = await current(store, hub_id, instance_id)
        events = list(await decide(state))
        if not events:
            return 0
        try:
            await _append(store, hub_id, stream, events, version or NO_STREAM)
        except WrongExpectedVersion:
            if attempt == ATTEMPTS - 1:
                raise
            # Full jitter, growing: without it two processes saving one
            # instance can collide in lockstep until one runs out of
            # attempts (seen in CI: 20 lost races in a row on SQLite).
            await anyio.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF * 2**attempt)))
            continue
        return len(events)
    raise AssertionError("unreachable")


async def _append(
    store: EventStore,
    hub_id: str,
    stream: str,
    events: list[Event],
    expected: ExpectedVersion | int,
) -> None:
    retrying = APPEND_RETRY.start()
    while True:
        try:
            await store.append(hub_id, stream, events, expected_version=expected)
            return
        except BackendUnavailable as exc:
            # The same event objects again: the log answers a retry idempotently.
            await retrying.wait(exc)


async def append_any(store: EventStore, hub_id: str, stream: str, events: list[Event]) -> None:
    """Append without a version check (hub and metrics events: no decision
    depends on their stream's state), retrying the same events on a timeout.

    Raises: BackendUnavailable once retries run out; InvalidEventError.
    """
    await _append(store, hub_id, stream, events, ANY)


async def hubs_with(store: EventStore, stream: str) -> list[str]:
    """The hubs whose log has ``stream``.

    Raises: BackendUnavailable, StoreClosed.
    """
    return [hub for hub in await store.hubs() if await store.stream_version(hub, stream) > 0]


async def live_hub(store: EventStore, instance_id: str, hint: str | None) -> str | None:
    """The hub where ``instance_id`` is registered now (``hint`` is tried
    first: the hub this adapter last saw it in), or None.

    Raises: BackendUnavailable, StoreClosed.
    """
    if hint is not None:
        state, _ = await current(store, hint, instance_id)
        if state is not None and state.registered:
            return hint
    for hub_id in await hubs_with(store, streams.instance(instance_id)):
        if hub_id == hint:
            continue
        state, _ = await current(store, hub_id, instance_id)
        if state is not None and state.registered:
            return hub_id
    return None
