"""The backend's clock, bounded from both sides without a round trip per call.

A lease is decided by the backend's clock (the one that stamps
``recorded_at``), but asking it (``store.now()``) on every call would cost a
third round trip.  Instead the clock is *calibrated*: one ``now()`` answered
``T`` somewhere between the local monotonic instants ``sent`` and
``received``, so at a later local instant ``x`` the backend's clock reads

    at least  T + (x - received) * (1 - drift)
    at most   T + (x - sent) * (1 + drift)

(``drift`` bounds how much faster or slower the two clocks may run).  Grants
and expiries are judged at the lower bound: a lease is only taken to have run
out once the backend's clock has surely passed its end, and a grant's own
``recorded_at`` — stamped later by the same clock — is never earlier than the
time it was decided at.  ``check_token`` answers True only while even the
upper bound is before the lease's end.  The bounds are as wide as the
calibration's round trip; a calibration older than ``recalibrate_s`` is
renewed (one extra ``now()``), keeping whichever bound is tighter.

This assumes the backend's clock does not step backwards (it is the clock
that orders ``recorded_at`` too); a log checker can see if it did, as an
event whose ``decided_at`` is later than its ``recorded_at``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from eventstore.store import EventStore

DRIFT = 5e-4
"""500 ppm: the most NTP lets a clock be slewed, with room to spare."""


class BackendClock:
    """Lower and upper bounds of ``store``'s clock now.

    ``monotonic`` is the local clock (seconds); tests with a controlled
    backend clock pass one that moves with it.
    """

    def __init__(
        self,
        store: EventStore,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        recalibrate_s: float = 10.0,
        drift: float = DRIFT,
    ) -> None:
        self.store = store
        self.monotonic = monotonic
        self.recalibrate_s = recalibrate_s
        self.drift = drift
        self._low: tuple[float, datetime] | None = None  # (received, T)
        self._high: tuple[float, datetime] | None = None  # (sent, T)
        self._checked = 0.0  # local time of the last calibration
        self.calibrations = 0

    async def lower(self) -> datetime:
        """The backend's clock is at least this now.

        Raises: what ``store.now()`` raises when a calibration is due.
        """
        await self._calibrated()
        assert self._low is not None
        return self._extrapolate(self._low, self.monotonic(), -self.drift)

    async def upper(self) -> datetime:
        """The backend's clock is at most this now.

        Raises: what ``store.now()`` raises when a calibration is due.
        """
        await self._calibrated()
        assert self._high is not None
        return self._extrapolate(self._high, self.monotonic(), self.drift)

    async def calibrate(self) -> None:
        """Ask the backend's clock once; keep the tighter of old and new bounds."""
        sent = self.monotonic()
        backend = await self.store.now()
        received = self._checked = self.monotonic()
        self.calibrations += 1
        low, high = (received, backend), (sent, backend)
        if self._low is None or self._extrapolate(low, received, -self.drift) >= (
            self._extrapolate(self._low, received, -self.drift)
        ):
            self._low = low
        if self._high is None or self._extrapolate(high, received, self.drift) <= (
            self._extrapolate(self._high, received, self.drift)
        ):
            self._high = high

    async def _calibrated(self) -> None:
        if self._low is None or self.monotonic() - self._checked > self.recalibrate_s:
            await self.calibrate()

    @staticmethod
    def _extrapolate(anchor: tuple[float, datetime], at: float, drift: float) -> datetime:
        local, backend = anchor
        return backend + timedelta(seconds=(at - local) * (1 + drift))
