"""One contender of the queue-safety test, in its own process.

    python -m tests.projections.deciders.queue.worker URL HUB OWNER SEED SECONDS FIRST

(the contest harness's orders, ``tests/contest/worker.py``).

For SECONDS, each of CLIENTS concurrent clients reserves a slot (random
requirements, a random wait), holds it briefly and releases it; sometimes a
client gives up (cancels its wait), and sometimes one says ``kill_me`` while
waiting and the process waits to be SIGKILLed.  FIRST=kill forces that on
the first wait.  Every outcome is a JSON line on stdout.
"""

from __future__ import annotations

import random

import anyio

from adapters.hub import HubPersistenceAdapter, ReservationTimeout
from projections.deciders.queue import Reservation
from tests.contest.worker import Orders, run, say

CLIENTS = 2
TTL, HEARTBEAT = 3.0, 2.0
KILL, GIVE_UP = 0.03, 0.12
NEEDS = [{}, {"models": ["llama3"]}, {"models": ["mistral"]}, {"tags": ["gpu"]}]
NOWHERE = {"models": ["no-such-model"]}
"""What the forced first kill waits for: never granted, so surely killed waiting."""


class Client:
    def __init__(self, adapter: HubPersistenceAdapter, hub: str, owner: str, rng: random.Random):
        self.adapter, self.hub, self.owner, self.rng = adapter, hub, owner, rng

    async def reserve(self, wait: float, needs: dict | None = None) -> Reservation | None:
        needs = needs if needs is not None else self.rng.choice(NEEDS)
        try:
            return await self.adapter.reserve(
                self.hub, requirements=needs, owner_id=self.owner, ttl=TTL, wait=wait,
                heartbeat=HEARTBEAT,
            )  # fmt: skip
        except ReservationTimeout as exc:
            say(op="timeout", owner=self.owner, request=exc.request_id)
            return None

    async def hold(self, got: Reservation) -> None:
        say(op="granted", owner=self.owner, request=got.request_id,
            instance=got.instance_id, token=got.token)  # fmt: skip
        await anyio.sleep(self.rng.uniform(0, 0.3))
        service = self.adapter.queue.service(await self.adapter.session.store())
        ok = await service.leases.release(self.hub, got.instance_id, self.owner, got.token)
        say(op="release", owner=self.owner, ok=ok, token=got.token)

    async def one(self, first: str) -> None:
        roll = self.rng.random()
        if first == "kill" or roll < KILL:
            await self.killed_while_waiting(NOWHERE if first == "kill" else None)
        elif roll < KILL + GIVE_UP:
            got = None
            with anyio.move_on_after(self.rng.uniform(0.05, 0.6)) as scope:
                got = await self.reserve(wait=10)
            if scope.cancelled_caught:
                say(op="cancelled", owner=self.owner)
            if got is not None:
                await self.hold(got)
        else:
            got = await self.reserve(wait=self.rng.uniform(0, 3))
            if got is not None:
                await self.hold(got)

    async def killed_while_waiting(self, needs: dict | None) -> None:
        async def tell() -> None:
            # Killed only once the log shows it waiting (a slow start may take a while).
            service = self.adapter.queue.service(await self.adapter.session.store())
            while not any(w.owner == self.owner for w in (await service.view(self.hub)).waiting):
                await anyio.sleep(0.05)
            say(op="kill_me", owner=self.owner)
            await anyio.sleep(3600)

        async with anyio.create_task_group() as tg:
            tg.start_soon(tell)
            got = await self.reserve(wait=30, needs=needs)
            tg.cancel_scope.cancel()  # granted within 0.3 s: no kill this time
        if got is not None:
            await self.hold(got)


async def client(adapter: HubPersistenceAdapter, hub: str, owner: str, seed: int,
                 seconds: float, first: str) -> None:  # fmt: skip
    rng = random.Random(seed)
    worker = Client(adapter, hub, owner, rng)
    deadline = anyio.current_time() + seconds
    while anyio.current_time() < deadline:
        await worker.one(first)
        first = ""


async def contend(orders: Orders) -> None:
    async with HubPersistenceAdapter(orders.url) as adapter, anyio.create_task_group() as tg:
        for n in range(CLIENTS):
            tg.start_soon(client, adapter, orders.hub, f"{orders.owner}.{n}", orders.seed * 10 + n,
                          orders.seconds, orders.first if n == 0 else "")  # fmt: skip


if __name__ == "__main__":
    run(contend)
