"""A stand-in for ``random`` in the one decide loop's backoff between lost
races (leases, the queue, instance saves): records each pause's bounds and
sleeps none.  Use it as the ``jitter`` fixture: ``jitter = jitter_fixture`` in a module."""

from __future__ import annotations

import pytest

from projections.deciders import loop


class Jitter:
    """Stands in for ``random``: records each backoff's bounds, sleeps none."""

    def __init__(self) -> None:
        self.bounds: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.bounds.append((a, b))
        return 0.0


@pytest.fixture(name="jitter")
def jitter_fixture(monkeypatch: pytest.MonkeyPatch) -> Jitter:
    """The loop's ``random``, replaced by a :class:`Jitter`."""
    fake = Jitter()
    monkeypatch.setattr(loop, "random", fake)
    return fake
