"""Lease safety under contention, on every backend shared between processes:
6 worker processes with their own store connections contend for 5 leases
(capacity 1, and capacity 3), some SIGKILLed while holding, some pausing past
their ttl; then a checker that reads only the log (``checker.py``) proves at
most ``capacity`` overlapping unexpired leases at every instant, tokens
rising, refused calls writing nothing, killed holders' leases ending by expiry.

The default run is a few seconds; ``HUBLOG_LONG=1`` runs the long variant
too (marker ``long``, deselected otherwise: ``-m long`` selects only it),
``HUBLOG_LONG_LEASES_SECONDS`` (default 60) per backend and capacity; ``-s``
shows what each run found.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import anyio
import pytest

from tests.backends import SHARED_BACKENDS, Backend, backend_fixture
from tests.projections.deciders.leases.contest import Contest, problems

pytestmark = pytest.mark.anyio

LONG_SECONDS = float(os.environ.get("HUBLOG_LONG_LEASES_SECONDS", "60"))


backend = backend_fixture(SHARED_BACKENDS)


async def contend(url: str, seconds: float, capacity: int) -> None:
    contest = Contest(url, "lease-contest", seconds=seconds, capacity=capacity)
    with anyio.fail_after(seconds + 180):
        outcome = await contest.run()
    report = outcome.report
    print(
        f"\n{url.split(':')[0]} capacity {capacity}: {outcome.seconds:.1f} s, "
        f"{report.grants} grants, {len(outcome.of('renew'))} renewals, "
        f"{len(outcome.of('release'))} releases, {len(outcome.of('full'))} refused as full, "
        f"{len(outcome.of('late'))} late renew/release refused, {len(outcome.killed)} killed, "
        f"{len(outcome.of('contention'))} contention errors, problems: {problems(outcome)}"
    )
    assert problems(outcome) == []
    assert report.grants > 0 and outcome.killed and outcome.of("late")


@pytest.mark.parametrize("capacity", [1, 3])
async def test_leases_stay_safe_under_contention_and_kills(
    backend: Backend, store_url: str, capacity: int
) -> None:
    await contend(store_url, 4.0, capacity)


@pytest.mark.long
@pytest.mark.parametrize("capacity", [1, 3])
async def test_leases_stay_safe_for_a_long_run(
    backend: Backend, make_url: Callable[[str], str], capacity: int
) -> None:
    await contend(make_url(backend.kind), LONG_SECONDS, capacity)
