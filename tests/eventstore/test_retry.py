"""RetryPolicy / Retrying: the one backoff of hublog, exactly.

``next_delay`` takes the time of each failure, so the delay sequence and the
attempts and deadline boundaries are checked with chosen instants, no
sleeping; ``wait`` (anyio's clock) and ``wait_sync`` (``time.monotonic``)
are checked for real with delays of a few hundredths of a second.  Delays
are powers of two or exact products so that equality is exact.
"""

from __future__ import annotations

import time

import anyio
import pytest

from eventstore import BackendUnavailable
from eventstore.retry import Retrying, RetryPolicy
from tests import backends

anyio_backend = backends.asyncio_and_trio


def delays(retrying: Retrying, times: list[float]) -> list[float | None]:
    return [retrying.next_delay(now) for now in times]


# --- the delay sequence -----------------------------------------------------------


def test_delays_grow_by_the_multiplier_up_to_the_cap() -> None:
    retrying = RetryPolicy(initial=0.25, multiplier=3.0, cap=4.0).start()

    assert delays(retrying, [0.0] * 6) == [0.25, 0.75, 2.25, 4.0, 4.0, 4.0]


def test_a_multiplier_of_one_keeps_the_initial_delay() -> None:
    retrying = RetryPolicy(initial=0.5, multiplier=1.0, cap=4.0).start()

    assert delays(retrying, [0.0] * 4) == [0.5, 0.5, 0.5, 0.5]


def test_an_initial_delay_above_the_cap_is_capped_from_the_first_failure() -> None:
    retrying = RetryPolicy(initial=8.0, multiplier=2.0, cap=1.5).start()

    assert delays(retrying, [0.0] * 3) == [1.5, 1.5, 1.5]


def test_the_default_policy_starts_at_a_twentieth_and_doubles_to_one_second() -> None:
    policy = RetryPolicy()
    assert (policy.initial, policy.multiplier, policy.cap) == (0.05, 2.0, 1.0)
    assert (policy.attempts, policy.deadline) == (None, None)

    assert delays(policy.start(), [0.0] * 7) == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_unbounded_policy_never_gives_up() -> None:
    retrying = RetryPolicy(initial=0.0, cap=0.0).start()

    assert delays(retrying, [float(t) for t in range(1000)]) == [0.0] * 1000
    assert retrying.failures == 1000


def test_each_failure_counts_once_and_the_first_one_is_remembered() -> None:
    retrying = RetryPolicy().start()
    assert (retrying.failures, retrying.first_failure) == (0, None)

    retrying.next_delay(10.0)
    assert (retrying.failures, retrying.first_failure) == (1, 10.0)
    retrying.next_delay(11.0)
    retrying.next_delay(12.5)
    assert (retrying.failures, retrying.first_failure) == (3, 10.0)


def test_start_gives_a_fresh_state_of_that_policy_each_time() -> None:
    policy = RetryPolicy(initial=0.25, multiplier=2.0, cap=4.0, attempts=3)
    first = policy.start()
    first.next_delay(0.0)

    second = policy.start()
    assert second is not first
    assert second.policy is policy
    assert second.failures == 0
    assert delays(second, [0.0, 0.0, 0.0]) == [0.25, 0.5, None]


# --- the attempts bound -------------------------------------------------------------


@pytest.mark.parametrize("attempts", [1, 2, 3, 5])
def test_attempts_allow_exactly_attempts_minus_one_delays(attempts: int) -> None:
    retrying = RetryPolicy(initial=1.0, multiplier=2.0, cap=64.0, attempts=attempts).start()

    expected = [2.0**i for i in range(attempts - 1)]
    assert delays(retrying, [0.0] * attempts) == [*expected, None]
    assert retrying.failures == attempts


def test_a_spent_attempts_policy_stays_spent() -> None:
    retrying = RetryPolicy(initial=0.5, attempts=2).start()

    assert delays(retrying, [0.0, 0.0, 0.0, 0.0]) == [0.5, None, None, None]
    assert retrying.failures == 4


# --- the deadline bound -------------------------------------------------------------


def test_a_failure_exactly_at_the_deadline_gets_no_delay() -> None:
    retrying = RetryPolicy(initial=0.25, multiplier=2.0, cap=4.0, deadline=5.0).start()

    assert retrying.next_delay(100.0) == 0.25
    assert retrying.next_delay(104.75) == 0.5
    assert retrying.next_delay(105.0) is None
    assert retrying.first_failure == 100.0


def test_a_failure_just_before_the_deadline_still_gets_a_delay() -> None:
    retrying = RetryPolicy(initial=0.25, multiplier=2.0, cap=4.0, deadline=5.0).start()

    assert retrying.next_delay(100.0) == 0.25
    assert retrying.next_delay(104.9375) == 0.5  # 1/16 s before the deadline
    assert retrying.next_delay(105.5) is None


def test_the_deadline_counts_from_the_first_failure_not_the_last() -> None:
    retrying = RetryPolicy(initial=0.25, multiplier=2.0, cap=4.0, deadline=2.0).start()

    assert delays(retrying, [7.0, 8.0, 8.5, 9.0]) == [0.25, 0.5, 1.0, None]


def test_a_zero_deadline_gives_no_delay_at_all() -> None:
    retrying = RetryPolicy(deadline=0.0).start()

    assert retrying.next_delay(3.0) is None
    assert retrying.failures == 1


def test_attempts_and_deadline_together_stop_at_whichever_comes_first() -> None:
    by_attempts = RetryPolicy(initial=0.5, cap=4.0, attempts=3, deadline=10.0).start()
    assert delays(by_attempts, [0.0, 1.0, 2.0]) == [0.5, 1.0, None]

    by_deadline = RetryPolicy(initial=0.5, cap=4.0, attempts=10, deadline=1.0).start()
    assert delays(by_deadline, [0.0, 0.5, 1.0]) == [0.5, 1.0, None]


# --- reset --------------------------------------------------------------------------


def test_reset_restarts_the_delays_the_count_and_the_deadline() -> None:
    retrying = RetryPolicy(initial=0.25, multiplier=2.0, cap=4.0, attempts=4, deadline=5.0).start()
    assert delays(retrying, [100.0, 101.0, 102.0]) == [0.25, 0.5, 1.0]

    retrying.reset()
    assert (retrying.failures, retrying.first_failure) == (0, None)

    # long after the first run's deadline, and with its attempts almost spent:
    # a new run of failures, from the initial delay
    assert delays(retrying, [200.0, 201.0, 202.0, 203.0]) == [0.25, 0.5, 1.0, None]
    assert (retrying.failures, retrying.first_failure) == (4, 200.0)


def test_reset_after_a_spent_policy_allows_a_new_run_of_attempts() -> None:
    retrying = RetryPolicy(initial=0.5, attempts=2).start()
    assert delays(retrying, [0.0, 0.0]) == [0.5, None]

    retrying.reset()

    assert delays(retrying, [1.0, 1.0]) == [0.5, None]
    assert (retrying.failures, retrying.first_failure) == (2, 1.0)


# --- wait (async) -------------------------------------------------------------------


@pytest.mark.anyio
async def test_wait_sleeps_the_delay_then_raises_the_given_exception_when_spent() -> None:
    retrying = RetryPolicy(initial=0.02, multiplier=2.0, cap=1.0, attempts=3).start()
    exc = BackendUnavailable("down")

    start = anyio.current_time()
    await retrying.wait(exc)
    await retrying.wait(exc)
    slept = anyio.current_time() - start
    with pytest.raises(BackendUnavailable) as caught:
        await retrying.wait(exc)

    assert caught.value is exc
    assert slept >= 0.02 + 0.04
    assert retrying.failures == 3


@pytest.mark.anyio
async def test_wait_judges_the_deadline_by_the_event_loop_clock() -> None:
    retrying = RetryPolicy(initial=0.06, cap=0.06, deadline=0.05).start()
    exc = TimeoutError("gave up")

    await retrying.wait(exc)  # the first failure: sleeps 0.06 s, past the deadline
    assert retrying.first_failure is not None
    assert anyio.current_time() - retrying.first_failure >= 0.05
    with pytest.raises(TimeoutError) as caught:
        await retrying.wait(exc)

    assert caught.value is exc


@pytest.mark.anyio
async def test_wait_with_a_zero_deadline_raises_at_once() -> None:
    exc = BackendUnavailable("no tolerance")

    with pytest.raises(BackendUnavailable) as caught:
        await RetryPolicy(deadline=0.0).start().wait(exc)

    assert caught.value is exc


# --- wait_sync (worker threads) -----------------------------------------------------


def test_wait_sync_sleeps_the_delay_then_raises_the_given_exception_when_spent() -> None:
    retrying = RetryPolicy(initial=0.02, multiplier=2.0, cap=1.0, attempts=3).start()
    exc = BackendUnavailable("down")

    start = time.monotonic()
    retrying.wait_sync(exc)
    retrying.wait_sync(exc)
    slept = time.monotonic() - start
    with pytest.raises(BackendUnavailable) as caught:
        retrying.wait_sync(exc)

    assert caught.value is exc
    assert slept >= 0.02 + 0.04
    assert retrying.failures == 3


def test_wait_sync_judges_the_deadline_by_the_monotonic_clock() -> None:
    retrying = RetryPolicy(initial=0.06, cap=0.06, deadline=0.05).start()
    exc = TimeoutError("gave up")

    retrying.wait_sync(exc)  # the first failure: sleeps 0.06 s, past the deadline
    assert retrying.first_failure is not None
    assert time.monotonic() - retrying.first_failure >= 0.05
    with pytest.raises(TimeoutError) as caught:
        retrying.wait_sync(exc)

    assert caught.value is exc


def test_wait_sync_with_one_attempt_raises_at_once_without_sleeping() -> None:
    exc = ConnectionError("once only")
    retrying = RetryPolicy(initial=5.0, attempts=1).start()

    start = time.monotonic()
    with pytest.raises(ConnectionError) as caught:
        retrying.wait_sync(exc)

    assert caught.value is exc
    assert time.monotonic() - start < 1.0


# --- the policy's own checks --------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "shown"),
    [
        pytest.param(
            {"initial": -0.5},
            "RetryPolicy(initial=-0.5, multiplier=2.0, cap=1.0, attempts=None, deadline=None)",
            id="negative-initial",
        ),
        pytest.param(
            {"cap": -1.0},
            "RetryPolicy(initial=0.05, multiplier=2.0, cap=-1.0, attempts=None, deadline=None)",
            id="negative-cap",
        ),
        pytest.param(
            {"multiplier": 0.5},
            "RetryPolicy(initial=0.05, multiplier=0.5, cap=1.0, attempts=None, deadline=None)",
            id="shrinking-multiplier",
        ),
    ],
)
def test_a_policy_refuses_negative_delays_and_a_multiplier_below_one(
    kwargs: dict[str, float], shown: str
) -> None:
    with pytest.raises(ValueError) as caught:
        RetryPolicy(**kwargs)  # type: ignore[arg-type]

    assert type(caught.value) is ValueError
    assert str(caught.value) == f"a backoff needs delays >= 0 and a multiplier >= 1: {shown}"


@pytest.mark.parametrize("attempts", [0, -1])
def test_a_policy_refuses_fewer_than_one_attempt(attempts: int) -> None:
    with pytest.raises(ValueError) as caught:
        RetryPolicy(attempts=attempts)

    assert type(caught.value) is ValueError
    assert str(caught.value) == (
        "a retry policy needs at least one attempt: RetryPolicy(initial=0.05, multiplier=2.0, "
        f"cap=1.0, attempts={attempts}, deadline=None)"
    )


def test_a_policy_accepts_the_boundary_values() -> None:
    policy = RetryPolicy(initial=0.0, multiplier=1.0, cap=0.0, attempts=1, deadline=0.0)

    assert (policy.initial, policy.multiplier, policy.cap) == (0.0, 1.0, 0.0)
    assert (policy.attempts, policy.deadline) == (1, 0.0)
