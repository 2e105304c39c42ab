"""The queue-safety contest: processes contending for a pool's slots
through the reservation queue, some SIGKILLed while waiting, some giving
up, then the log checked (``checker.py``).

Each of ``processes`` slots runs a worker process (``worker.py``, 2 clients)
with its own adapter; a worker that asks to be killed is SIGKILLed and its
slot starts a new one under new owner ids until the time is up.  Slot 0's
first wait is killed, so even a short run has one.  Everything started here
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

from adapters.hub import HubPersistenceAdapter
from eventstore.values import ResourceStatus
from projections.deciders.queue import QueueService
from tests.adapters.hub.instances import Instance, OllamaConfig
from tests.processes import run_reporting
from tests.projections.deciders.queue import worker
from tests.projections.deciders.queue.checker import Report, check

ROOT = Path(__file__).resolve().parents[4]
POOL = {  # 3 instances of capacity 2; requirements that only some can serve
    "i0": ({"llama3"}, {"ollama"}),
    "i1": ({"llama3", "mistral"}, {"ollama", "gpu"}),
    "i2": ({"mistral"}, {"ollama", "gpu"}),
}


@dataclass
class Outcome:
    report: Report
    lines: list[dict[str, Any]] = field(default_factory=list)
    killed: set[str] = field(default_factory=set)  # process owner prefixes
    exits: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def of(self, op: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["op"] == op]


@dataclass
class Contest:
    url: str
    hub: str
    seconds: float
    processes: int = 6
    outcome: Outcome = field(default_factory=lambda: Outcome(Report()))

    async def run(self) -> Outcome:
        started = time.monotonic()
        await self.register()
        deadline = anyio.current_time() + self.seconds
        async with anyio.create_task_group() as tg:
            for slot in range(self.processes):
                tg.start_soon(self.slot, slot, deadline)
        async with HubPersistenceAdapter(self.url) as adapter:
            store = await adapter.session.store()
            await self.settle(QueueService(store))
            self.outcome.report = check([e async for e in store.read_log(self.hub)])
        self.outcome.seconds = time.monotonic() - started
        return self.outcome

    async def settle(self, service: QueueService) -> None:
        """Reap until the log holds no waiter and no lease (every worker has
        exited: what the killed ones left runs out within their heartbeat or
        ttl).  At the latest it reaps once more after the ttl and half a
        second, the fixed wait this replaces, and the check reports whatever
        stayed."""
        deadline = anyio.current_time() + max(worker.TTL, worker.HEARTBEAT) + 0.5
        while True:
            last = anyio.current_time() >= deadline  # then this reap is the old single one
            await service.reap(self.hub)
            for name in POOL:
                await service.leases.reap(self.hub, name)
            if last or not (
                (await service.view(self.hub)).waiting
                or any([(await service.leases.view(self.hub, name)).holders for name in POOL])
            ):
                return
            await anyio.sleep(0.1)

    async def register(self) -> None:
        async with HubPersistenceAdapter(self.url) as adapter:
            for name, (models, tags) in POOL.items():
                config = OllamaConfig(models=sorted(models), max_concurrent=2)
                instance = Instance(name, capabilities=set(models), tags=tags, config=config)
                await adapter.save_instance(self.hub, instance)
            states = await adapter.live_instances(self.hub)
            assert [s.status for s in states] == [ResourceStatus.HEALTHY] * len(POOL)

    async def slot(self, slot: int, deadline: float) -> None:
        first, incarnation = ("kill" if slot == 0 else ""), 0
        while (left := deadline - anyio.current_time()) > 0.3 or incarnation == 0:
            owner = f"p{slot}-{incarnation}"
            await self.worker(owner, slot * 1000 + incarnation, max(left, 0.5), first)
            incarnation, first = incarnation + 1, ""

    async def worker(self, owner: str, seed: int, seconds: float, first: str) -> None:
        command = [sys.executable, "-m", "tests.projections.deciders.queue.worker", self.url,
                   self.hub, owner, str(seed), f"{seconds:.2f}", first]  # fmt: skip
        exit_status = await run_reporting(command, lambda pid, line: self.heard(pid, owner, line))
        self.outcome.exits.append(exit_status)

    def heard(self, pid: int, owner: str, line: dict[str, Any]) -> None:
        line["process"] = owner
        self.outcome.lines.append(line)
        if line["op"] == "kill_me" and owner not in self.outcome.killed:
            self.outcome.killed.add(owner)
            os.kill(pid, signal.SIGKILL)


def problems(outcome: Outcome) -> list[str]:
    """Everything the log and the workers' reports disprove; [] is a pass."""
    report, found = outcome.report, list(outcome.report.problems)
    for request in report.requests.values():
        process = request.owner.split(".")[0]
        if request.outcome == "":
            found.append(f"{request.request_id} of {request.owner} still waiting at the end")
        elif request.outcome == "expired" and process not in outcome.killed:
            found.append(f"live waiter {request.owner} was dropped: {request}")
    for line in outcome.of("granted"):
        request = report.requests.get(line["request"])
        if request is None or (request.outcome, request.instance_id, request.token) != (
            "granted",
            line["instance"],
            line["token"],
        ):
            found.append(f"a grant the log does not show: {line} vs {request}")
    said = sum(1 for line in outcome.of("granted"))
    logged = {r.request_id for r in report.requests.values() if r.outcome == "granted"}
    alive = {r for r in logged if report.requests[r].owner.split(".")[0] not in outcome.killed}
    if said < len(alive):
        found.append(f"{len(alive)} grants to live processes in the log, {said} heard")
    for line in outcome.of("timeout"):
        request = report.requests.get(line["request"])
        if request is not None and request.outcome != "timeout":
            found.append(f"a timeout the log shows as {request.outcome}: {line}")
    exits = [code for code in outcome.exits if code != -signal.SIGKILL]
    if any(exits) or len(outcome.of("done")) != len(exits):
        found.append(f"workers exited {outcome.exits}, {len(outcome.of('done'))} said done")
    return found
