"""The backend clock's bounds, on a backend clock and a local clock the test
moves by hand: the lower bound runs slow by ``drift`` from the calibration's
answer, the upper fast; a recalibration keeps the tighter of old and new; a
calibration is renewed only once it is more than ``recalibrate_s`` old.

No server here: the clock asks its store for ``now()`` and nothing else.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

import pytest

from eventstore import EventStore
from projections.deciders.leases import BackendClock
from tests import backends

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


anyio_backend = backends.asyncio_only


class Clocks:
    """The local monotonic clock and the backend's answers, both by hand.
    A round trip takes ``rtt`` local seconds; the backend answers
    ``backend`` halfway through it."""

    def __init__(self, rtt: float = 0.0) -> None:
        self.local = 0.0
        self.backend = T0
        self.rtt = rtt
        self.asked = 0

    def monotonic(self) -> float:
        return self.local

    async def now(self) -> datetime:
        self.asked += 1
        self.local += self.rtt
        return self.backend

    def clock(self, **kwargs: float) -> BackendClock:
        return BackendClock(cast(EventStore, self), monotonic=self.monotonic, **kwargs)

    def wait(self, seconds: float) -> None:
        """Both clocks move on by ``seconds`` (they run at the same rate)."""
        self.local += seconds
        self.backend += timedelta(seconds=seconds)


async def test_the_lower_bound_runs_slow_and_the_upper_fast_by_the_drift() -> None:
    clocks = Clocks(rtt=2.0)
    clock = clocks.clock(drift=0.5, recalibrate_s=1e9)
    await clock.calibrate()  # sent at 0, answered T0, received at 2
    clocks.local = 10.0

    # Lower: T0 + (10 - 2) * (1 - 0.5); upper: T0 + (10 - 0) * (1 + 0.5).
    assert await clock.lower() == T0 + timedelta(seconds=4)
    assert await clock.upper() == T0 + timedelta(seconds=15)


async def test_a_recalibration_keeps_the_new_lower_bound_when_it_is_tighter() -> None:
    clocks = Clocks()
    clock = clocks.clock(drift=0.5, recalibrate_s=1e9)
    await clock.calibrate()
    clocks.local, clocks.backend = 10.0, T0 + timedelta(seconds=7)
    # The old bound says at least T0 + 5 by now; the new answer, T0 + 7, is tighter.
    await clock.calibrate()

    assert await clock.lower() == T0 + timedelta(seconds=7)
    # The old upper bound (T0 + 15) is looser than the new one (T0 + 7): replaced too.
    assert await clock.upper() == T0 + timedelta(seconds=7)


async def test_a_recalibration_keeps_the_old_bounds_where_they_are_tighter() -> None:
    clocks = Clocks(rtt=4.0)
    clock = clocks.clock(drift=0.0, recalibrate_s=1e9)
    await clock.calibrate()  # [T0 at local 4, T0 at local 0]: width 4 s
    clocks.wait(10.0)  # local 14, backend T0 + 10
    clocks.rtt = 0.0
    clocks.backend = T0 + timedelta(seconds=12)  # an answer inside the old window
    await clock.calibrate()

    # Old lower bound by now: T0 + 10; the new one: T0 + 12 — kept.  Old upper:
    # T0 + 14; the new one: T0 + 12 — kept too.  Then a slow answer that says less:
    assert (await clock.lower(), await clock.upper()) == (T0 + timedelta(seconds=12),) * 2
    clocks.rtt = 6.0
    clocks.backend = T0 + timedelta(seconds=12)
    await clock.calibrate()  # sent at 14, received at 20: says [T0 + 12, T0 + 18]
    assert await clock.lower() == T0 + timedelta(seconds=18)  # the old bound, run on
    assert await clock.upper() == T0 + timedelta(seconds=18)


async def test_the_first_bound_asks_the_backend_once_and_counts_it() -> None:
    clocks = Clocks()
    clock = clocks.clock(recalibrate_s=10.0)
    assert clock.calibrations == 0

    await clock.lower()
    await clock.upper()
    assert (clock.calibrations, clocks.asked) == (1, 1)


async def test_a_calibration_is_renewed_only_once_it_is_older_than_recalibrate_s() -> None:
    clocks = Clocks()
    clocks.local = 100.0
    clock = clocks.clock(recalibrate_s=10.0)
    await clock.lower()

    clocks.local = 110.0  # exactly recalibrate_s old: still good
    await clock.lower()
    assert (clock.calibrations, clocks.asked) == (1, 1)

    clocks.local = 110.5
    await clock.upper()
    assert (clock.calibrations, clocks.asked) == (2, 2)

    clocks.local = 121.0
    await clock.lower()
    assert (clock.calibrations, clocks.asked) == (3, 3)


async def test_the_default_recalibration_is_every_ten_seconds() -> None:
    clocks = Clocks()
    clock = clocks.clock()
    await clock.lower()
    clocks.local = 10.5
    await clock.lower()
    assert clocks.asked == 2
