"""The lease-safety contest: processes contending for leases, some of them
SIGKILLed while holding, then the log checked (``checker.py``).

Each of ``processes`` slots runs a worker process (``worker.py``) with its
own store connection; a worker that asks to be killed (``kill_me``, while it
holds a lease) is SIGKILLed and its slot starts a new one under a new owner
id until the time is up.  Slot 0's first lease is killed and slot 1's first
pauses past its ttl, so even a short run has both.  Everything started here
is stopped here.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from adapters import open_store
from projections.deciders.leases import LeaseService
from tests.processes import run_reporting
from tests.projections.deciders.leases.checker import Report, check

ROOT = Path(__file__).resolve().parents[4]


@dataclass
class Outcome:
    report: Report
    lines: list[dict[str, Any]] = field(default_factory=list)
    killed: list[dict[str, Any]] = field(default_factory=list)
    exits: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def of(self, op: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["op"] == op]


@dataclass
class Contest:
    url: str
    hub: str
    seconds: float
    capacity: int
    ttl: float = 0.6
    processes: int = 6
    resources: int = 5
    outcome: Outcome = field(default_factory=lambda: Outcome(Report()))

    @property
    def names(self) -> list[str]:
        return [f"r{i}" for i in range(self.resources)]

    async def run(self) -> Outcome:
        started = time.monotonic()
        deadline = anyio.current_time() + self.seconds
        async with anyio.create_task_group() as tg:
            for slot in range(self.processes):
                tg.start_soon(self.slot, slot, deadline)
        async with open_store(self.url) as store:
            await self.settle(LeaseService(store))
            self.outcome.report = check([e async for e in store.read_log(self.hub)])
        self.outcome.seconds = time.monotonic() - started
        return self.outcome

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

    async def slot(self, slot: int, deadline: float) -> None:
        first = {0: "kill", 1: "pause"}.get(slot, "")
        incarnation = 0
        while (left := deadline - anyio.current_time()) > 0.2 or incarnation == 0:
            owner = f"slot{slot}-{incarnation}"
            await self.worker(owner, slot * 1000 + incarnation, max(left, 0.5), first)
            incarnation, first = incarnation + 1, ""

    async def worker(self, owner: str, seed: int, seconds: float, first: str) -> None:
        command = [
            sys.executable, "-m", "tests.projections.deciders.leases.worker", self.url, self.hub,
            owner, str(seed), f"{seconds:.2f}", str(self.ttl), str(self.capacity),
            ",".join(self.names), first,
        ]  # fmt: skip
        exit_status = await run_reporting(command, lambda pid, line: self.heard(pid, owner, line))
        self.outcome.exits.append(exit_status)

    def heard(self, pid: int, owner: str, line: dict[str, Any]) -> None:
        line["owner"] = owner
        self.outcome.lines.append(line)
        if line["op"] == "kill_me":
            os.kill(pid, signal.SIGKILL)
            self.outcome.killed.append(line)


def problems(outcome: Outcome) -> list[str]:
    """Everything the log and the workers' reports disprove; [] is a pass."""
    report, found = outcome.report, list(outcome.report.problems)
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
    exits = [code for code in outcome.exits if code != -signal.SIGKILL]
    if any(exits) or len(outcome.of("done")) != len(exits):
        found.append(f"workers exited {outcome.exits}, {len(outcome.of('done'))} said done")
    return found
