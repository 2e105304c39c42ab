"""The one backoff policy: how hublog waits before trying a transient
failure again, and when it gives up.

Used by ``subscribe`` (riding out an outage), the Redis call path (a lost
connection, a cluster in flux) and the projection runner's commit retry;
each says only how many attempts or how long a deadline it allows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import anyio


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with a cap, bounded by attempts, a deadline, or both.

    Args:
        initial: the first delay, in seconds.
        multiplier: each delay is the previous one times this.
        cap: no delay is longer than this.
        attempts: how many tries in all (the first included); None: unbounded.
        deadline: how many seconds after the first failure of a run of
            failures the last retry may start; None: unbounded.
    """

    initial: float = 0.05
    multiplier: float = 2.0
    cap: float = 1.0
    attempts: int | None = None
    deadline: float | None = None

    def __post_init__(self) -> None:
        if self.initial < 0 or self.cap < 0 or self.multiplier < 1:
            raise ValueError(f"a backoff needs delays >= 0 and a multiplier >= 1: {self!r}")
        if self.attempts is not None and self.attempts < 1:
            raise ValueError(f"a retry policy needs at least one attempt: {self!r}")

    def start(self) -> Retrying:
        """The state of one run of attempts under this policy."""
        return Retrying(self)


class Retrying:
    """Where one caller stands in a policy: failures so far, the next delay.

    ``wait(exc)`` (async) or ``wait_sync(exc)`` (in a worker thread) sleeps
    before the next attempt, or raises ``exc`` when the policy is spent;
    ``reset()`` after a success starts the count and the deadline afresh.
    """

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.reset()

    def reset(self) -> None:
        self.failures = 0
        self.first_failure: float | None = None
        self._delay = self.policy.initial

    def next_delay(self, now: float) -> float | None:
        """Count one more failure at ``now``; the delay before the next try,
        or None when the policy allows no more."""
        policy = self.policy
        self.failures += 1
        if self.first_failure is None:
            self.first_failure = now
        if policy.attempts is not None and self.failures >= policy.attempts:
            return None
        if policy.deadline is not None and now - self.first_failure >= policy.deadline:
            return None
        delay = min(self._delay, policy.cap)
        self._delay = min(self._delay * policy.multiplier, policy.cap)
        return delay

    async def wait(self, exc: BaseException) -> None:
        """Sleep before the next attempt; raise ``exc`` when the policy is spent."""
        delay = self.next_delay(anyio.current_time())
        if delay is None:
            raise exc
        await anyio.sleep(delay)

    def wait_sync(self, exc: BaseException) -> None:
        """:meth:`wait` for code in a worker thread."""
        delay = self.next_delay(time.monotonic())
        if delay is None:
            raise exc
        time.sleep(delay)
