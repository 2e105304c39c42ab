"""The one read-decide-append loop: every write of the write side.

A command reads the current state of one stream (its last event, which
carries the whole state, or a fold of the stream) together with the
stream's version, calls a pure decision ``decide(state) -> change | None``
(None, or a change with no events: a refusal or nothing to do, and nothing
is written), and appends the change's events expecting the version it read.

- **A lost race** (``WrongExpectedVersion``: someone changed the stream
  since the read) means deciding again on the new state.  Between tries it
  backs off with full jitter, growing: a random pause up to
  ``min(cap, initial * 2**n)`` after the n-th lost race, so that racers
  stop colliding in lockstep and nobody starves.  After ``attempts`` lost
  races it gives up with the caller's typed error.
- **A timed-out append** (``BackendUnavailable``) is sent again with the
  same event objects — the log answers a retry idempotently — until the
  append policy's deadline; then ``BackendUnavailable`` leaves.
- **Cancellation**: the append, with its retries, runs shielded.  Once the
  events are on their way the loop learns whether they landed and returns
  the change; a cancelled caller's cancellation is delivered at its next
  await, and the caller holds what it was given (a caller that must not
  keep it, such as a reservation whose grant cannot be recorded, gives it
  back there).  Without the shield, a cancellation arriving while the
  backend committed would leave a change in the log — a lease, say — that
  no caller ever heard of.  A cancelled caller thus waits, at most, for
  the append policy's deadline.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar
from uuid import UUID

import anyio

from eventstore.envelope import NO_STREAM, ExpectedVersion
from eventstore.errors import BackendUnavailable, WrongExpectedVersion
from eventstore.events import Event
from eventstore.retry import RetryPolicy
from eventstore.store import EventStore

ATTEMPTS = 20
"""Lost races before a command gives up (the queue allows more: its stream
is one per hub, shared by every waiter)."""
BACKOFF, BACKOFF_CAP = 0.001, 0.05
"""After the n-th lost race (0-based), a random pause up to
min(BACKOFF_CAP, BACKOFF * 2**n)."""
APPEND_RETRY = RetryPolicy(initial=0.05, cap=1.0, deadline=10.0)
"""A timed-out append is sent again (the same events) for up to 10 s."""


class Change(Protocol):
    """What a decision returns: the events to append (and whatever else the
    command hands back to its caller)."""

    @property
    def events(self) -> Sequence[Event]: ...


@dataclass(frozen=True)
class Appended:
    """A decision that is only its events (an instance stream's changes)."""

    events: Sequence[Event]


S = TypeVar("S")
C = TypeVar("C", bound=Change)


@dataclass(frozen=True)
class Target:
    """The stream a command writes: its hub, its name, and the correlation
    id its events carry."""

    hub_id: str
    stream: str
    correlation_id: str | UUID | None = None


Read = Callable[[], Awaitable[tuple[S, int]]]
"""The stream's current state and its version (0: no stream yet)."""
GiveUp = Callable[[WrongExpectedVersion], Exception]
"""The caller's error once every attempt lost its race."""


async def decide_and_append(
    store: EventStore,
    target: Target,
    read: Read[S],
    decide: Callable[[S], C | None],
    *,
    attempts: int = ATTEMPTS,
    give_up: GiveUp | None = None,
) -> C | None:
    """Read, decide, append expecting the version read; again on a lost race.

    Returns the change appended, or what ``decide`` returned when it wrote
    nothing (None or a change without events).

    Raises: ``give_up(conflict)`` (or the last WrongExpectedVersion itself)
    after ``attempts`` lost races; BackendUnavailable when the backend
    cannot be reached (a timed-out append: once its retries run out);
    whatever ``read`` and ``decide`` raise.
    """
    if attempts < 1:
        raise ValueError(f"a decide loop needs at least one attempt, got {attempts}")
    for lost in range(attempts):
        state, version = await read()
        change = decide(state)
        if change is None or not change.events:
            return change
        try:
            await append_retrying(store, target, change.events, version or NO_STREAM)
        except WrongExpectedVersion as conflict:
            if lost == attempts - 1:
                if give_up is None:
                    raise
                raise give_up(conflict) from conflict
            await anyio.sleep(pause(lost))
            continue
        return change
    raise AssertionError("unreachable: the last lost race raises")


def pause(lost: int) -> float:
    """The pause after the ``lost``-th lost race (0-based): full jitter,
    growing, so that racers stop colliding in lockstep and nobody starves."""
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF * 2**lost))


async def append_retrying(
    store: EventStore,
    target: Target,
    events: Sequence[Event],
    expected: ExpectedVersion | int,
) -> None:
    """Append ``events`` expecting ``expected``, shielded from cancellation,
    sending a timed-out append again with the same events until
    :data:`APPEND_RETRY` is spent.  Also what appends without a decision
    (hub and metrics events, ``ANY``) use.

    Raises: BackendUnavailable once retries run out; WrongExpectedVersion;
    InvalidEventError.
    """
    batch = list(events)
    with anyio.CancelScope(shield=True):
        retrying = APPEND_RETRY.start()
        while True:
            try:
                await store.append(
                    target.hub_id,
                    target.stream,
                    batch,
                    expected_version=expected,
                    correlation_id=target.correlation_id,
                )
                return
            except BackendUnavailable as exc:
                await retrying.wait(exc)  # the same event objects: idempotent
