"""The queue-safety contest: processes contending for a pool's slots
through the reservation queue, some SIGKILLed while waiting, some giving
up, then the log checked (``checker.py``).

Each of ``processes`` slots runs a worker process (``worker.py``, 2 clients)
with its own adapter, under the contest harness (``tests/contest/``).  Slot
0's first wait is killed, so even a short run has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import anyio

from adapters.hub import HubPersistenceAdapter
from eventstore.values import ResourceStatus
from projections.deciders.queue import QueueService
from tests.adapters.hub.instances import Instance, OllamaConfig
from tests.contest import harness
from tests.projections.deciders.queue.checker import Report, check
from tests.projections.deciders.queue.worker import HEARTBEAT, TTL

Outcome = harness.Outcome[Report]

POOL = {  # 3 instances of capacity 2; requirements that only some can serve
    "i0": ({"llama3"}, {"ollama"}),
    "i1": ({"llama3", "mistral"}, {"ollama", "gpu"}),
    "i2": ({"mistral"}, {"ollama", "gpu"}),
}


@dataclass
class Contest(harness.Contest[Report]):
    worker: ClassVar[str] = "tests.projections.deciders.queue.worker"
    first_moves: ClassVar[dict[int, str]] = {0: "kill"}
    too_late: ClassVar[float] = 0.3  # a worker's adapter takes longer to start

    async def prepare(self) -> None:
        """The pool, registered and healthy."""
        async with HubPersistenceAdapter(self.url) as adapter:
            for name, (models, tags) in POOL.items():
                config = OllamaConfig(models=sorted(models), max_concurrent=2)
                instance = Instance(name, capabilities=set(models), tags=tags, config=config)
                await adapter.save_instance(self.hub, instance)
            states = await adapter.live_instances(self.hub)
            assert [s.status for s in states] == [ResourceStatus.HEALTHY] * len(POOL)

    async def settle_and_check(self) -> Report:
        async with HubPersistenceAdapter(self.url) as adapter:
            store = await adapter.session.store()
            await self.settle(QueueService(store))
            return check([e async for e in store.read_log(self.hub)])

    async def settle(self, service: QueueService) -> None:
        """Reap until the log holds no waiter and no lease (every worker has
        exited: what the killed ones left runs out within their heartbeat or
        ttl).  At the latest it reaps once more after the ttl and half a
        second, the fixed wait this replaces, and the check reports whatever
        stayed."""
        deadline = anyio.current_time() + max(TTL, HEARTBEAT) + 0.5
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


def problems(outcome: Outcome) -> list[str]:
    """Everything the log and the workers' reports disprove; [] is a pass."""
    report, found = outcome.report, []
    for request in report.requests.values():
        process = request.owner.split(".")[0]
        if request.outcome == "":
            found.append(f"{request.request_id} of {request.owner} still waiting at the end")
        elif request.outcome == "expired" and process not in outcome.killed_processes:
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
    killed = outcome.killed_processes
    alive = {r for r in logged if report.requests[r].owner.split(".")[0] not in killed}
    if said < len(alive):
        found.append(f"{len(alive)} grants to live processes in the log, {said} heard")
    for line in outcome.of("timeout"):
        request = report.requests.get(line["request"])
        if request is not None and request.outcome != "timeout":
            found.append(f"a timeout the log shows as {request.outcome}: {line}")
    return harness.problems(outcome, found)
