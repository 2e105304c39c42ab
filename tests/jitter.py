"""A stand-in for ``random`` in the lost-race backoffs (leases, the queue,
instance saves): records each pause's bounds and sleeps none."""

from __future__ import annotations


class Jitter:
    """Stands in for ``random``: records each backoff's bounds, sleeps none."""

    def __init__(self) -> None:
        self.bounds: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.bounds.append((a, b))
        return 0.0
