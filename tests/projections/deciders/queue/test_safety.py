"""Queue safety under contention, on every backend shared between processes:
6 worker processes (2 clients each, their own adapter) reserve slots of a
pool of 3 instances of capacity 2 with differing requirements, some waiters
SIGKILLed, some giving up; then a checker that reads only the log
(``checker.py``) proves capacity never exceeded, FIFO grants, no live waiter
lost or granted twice, dead waiters dropped only after their deadline.

The default run is ~5 s; ``HUBLOG_LONG=1`` runs the long variant (marker
``long``), ``HUBLOG_LONG_QUEUE_SECONDS`` (default 25) per backend; ``-s``
shows what each run found.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import anyio
import pytest

from tests.backends import SHARED_BACKENDS, Backend, backend_fixture
from tests.projections.deciders.queue.contest import Contest, problems

pytestmark = pytest.mark.anyio
LONG_SECONDS = float(os.environ.get("HUBLOG_LONG_QUEUE_SECONDS", "25"))


backend = backend_fixture(SHARED_BACKENDS)


async def contend(url: str, seconds: float) -> None:
    contest = Contest(url, "queue-contest", seconds=seconds)
    with anyio.fail_after(seconds + 180):
        outcome = await contest.run()
    report = outcome.report
    ends = [r.outcome for r in report.requests.values()]
    print(
        f"\n{url.split(':')[0]}: {outcome.seconds:.1f} s, {len(ends)} requests, "
        f"{report.grants} grants, {ends.count('timeout')} timed out, "
        f"{ends.count('cancelled')} cancelled, {ends.count('expired')} expired, "
        f"max depth {report.max_depth}, {len(outcome.killed)} processes killed, "
        f"{report.leases.grants} leases, problems: {problems(outcome)}"
    )
    assert problems(outcome) == []
    assert report.grants > 0 and outcome.killed and ends.count("expired") > 0
    assert report.max_depth > 1  # there was a queue


async def test_the_queue_stays_fair_under_contention_and_kills(
    backend: Backend, store_url: str
) -> None:
    await contend(store_url, 5.0)


@pytest.mark.long
async def test_the_queue_stays_fair_for_a_long_run(
    backend: Backend, make_url: Callable[[str], str]
) -> None:
    await contend(make_url(backend.kind), LONG_SECONDS)
