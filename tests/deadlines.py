"""Time limits for tests that run a loop of the code under test (a runner,
a subscription, a follower): a regression that makes it hang fails the test
with a message saying what did not finish, instead of hanging the suite.

Bounds are generous (the CI box is small and shared): a limit that is hit
means something is stuck, not slow.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import anyio
import pytest

LIMIT = 60.0
"""Seconds for one catch-up or follow loop of a test."""


@contextmanager
def within(what: str, seconds: float = LIMIT) -> Iterator[None]:
    """Fail the test if the block takes longer than ``seconds``, naming ``what``."""
    try:
        with anyio.fail_after(seconds):
            yield
    except TimeoutError:
        pytest.fail(f"{what} did not finish within {seconds:g} s: a hang, not slowness")
