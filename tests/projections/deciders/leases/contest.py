"""The lease-safety contest: processes contending for leases, some of them
SIGKILLed while holding, then the log checked (``checker.py``).

Each of ``processes`` slots runs a worker process (``worker.py``) with its
own store connection, under the contest harness (``tests/contest/``).  Slot
0's first lease is killed and slot 1's first pauses past its ttl, so even a
short run has both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import anyio

from adapters import open_store
from projections.deciders.leases import LeaseService
from tests.contest import harness
from tests.projections.deciders.leases.checker import Report, check

Outcome = harness.Outcome[Report]


@dataclass(kw_only=True)
class Contest(harness.Contest[Report]):
    capacity: int
    ttl: float = 0.6
    resources: int = 5

    worker: ClassVar[str] = "tests.projections.deciders.leases.worker"
    first_moves: ClassVar[dict[int, str]] = {0: "kill", 1: "pause"}

    @property
    def names(self) -> list[str]:
        return [f"r{i}" for i in range(self.resources)]

    def arguments(self) -> list[str]:
        return [str(self.ttl), str(self.capacity), ",".join(self.names)]

    async def settle_and_check(self) -> Report:
        async with open_store(self.url) as store:
            await self.settle(LeaseService(store))
            return check([e async for e in store.read_log(self.hub)])

    async def settle(self, leases: LeaseService) -> None:
        """Reap until the log holds no lease (every worker has exited: a
        killed holder's runs out within its ttl).  At the latest it reaps
        once more after twice the ttl, the fixed wait this replaces, and the
        check reports whatever stayed."""
        deadline = anyio.current_time() + self.ttl * 2
        while True:
            last = anyio.current_time() >= deadline  # then this reap is the old single one
            for name in self.names:
                await leases.reap(self.hub, name)
            if last or not any(
                [(await leases.view(self.hub, name)).holders for name in self.names]
            ):
                return
            await anyio.sleep(0.05)


def problems(outcome: Outcome) -> list[str]:
    """Everything the log and the workers' reports disprove; [] is a pass."""
    report, found = outcome.report, []
    for late in outcome.of("late"):
        if not late["refused"]:
            found.append(f"a {late['what']} past the ttl was accepted: {late}")
        if late["corr"] in report.correlations:
            found.append(f"a refused {late['what']} wrote to the log: {late}")
    for killed in outcome.killed:
        resource = report.resources.get(killed["resource"])
        tenure = resource.tenures.get(killed["token"]) if resource else None
        if tenure is None or tenure.owner != killed["owner"] or tenure.ended_by != "expired":
            found.append(f"the lease of killed {killed} ended as {tenure}")
    for resource in report.resources.values():
        found.extend(f"{resource.name}: token {t} never ended" for t in resource.holders)
    return harness.problems(outcome, found)
