"""How long each kind of metric data is kept (the seed's 24 h, made configurable)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from .errors import InvalidQuery

DAY = 86_400.0


class RetentionPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Windows in seconds: raw samples, 1-minute and 1-hour rollups.

    A hub with other needs gets its own policy: the metrics projection and
    the retention job of that hub are built with it.

    Raises: InvalidQuery for a window that is not positive.
    """

    raw_s: float = DAY
    minute_s: float = 7 * DAY
    hour_s: float = 90 * DAY

    def __post_init__(self) -> None:
        for name in ("raw_s", "minute_s", "hour_s"):
            value = getattr(self, name)
            if not value > 0:
                raise InvalidQuery(f"RetentionPolicy.{name} must be > 0 seconds, got {value!r}")

    def cuts(self, minute: datetime) -> dict[str, datetime]:
        """The oldest time each table keeps, for a clock in ``minute``:
        ``{"samples": …, "rollups_1m": …, "rollups_1h": …}``."""
        return {
            "samples": minute - timedelta(seconds=self.raw_s),
            "rollups_1m": minute - timedelta(seconds=self.minute_s),
            "rollups_1h": minute - timedelta(seconds=self.hour_s),
        }

    @property
    def tag(self) -> str:
        return f"raw={self.raw_s:g}s,1m={self.minute_s:g}s,1h={self.hour_s:g}s"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def floor_to(when: datetime, seconds: int) -> datetime:
    """The start (UTC) of the ``seconds``-long bucket, aligned to the epoch, holding ``when``."""
    if when.tzinfo is not UTC:
        when = when.astimezone(UTC)
    # the folds call this for every sample: the common sizes take the fast path
    if seconds == 60:
        return when.replace(second=0, microsecond=0)
    if seconds == 3600:
        return when.replace(minute=0, second=0, microsecond=0)
    offset = (when - _EPOCH) // timedelta(seconds=seconds)
    return _EPOCH + timedelta(seconds=offset * seconds)
