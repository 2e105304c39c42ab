"""One contender of the lease-safety test, in its own process.

    python -m tests.projections.deciders.leases.worker URL HUB OWNER SEED SECONDS FIRST \
        TTL CAPACITY RESOURCES

(the contest harness's orders, ``tests/contest/worker.py``, and the lease
contest's own three).

For SECONDS it acquires a random one of RESOURCES leases (each of CAPACITY),
holds it a random short time, sometimes renews, and releases; sometimes it
pauses past the ttl and tries a renewal and a release that must be refused;
sometimes it says ``kill_me`` while holding and waits to be SIGKILLed.
FIRST (pause | kill) forces what its first lease does: the first one it
gets, so a refusal as full does not forfeit the kill or pause the test
counts on.  Every outcome is a
JSON line on stdout; every call carries its own correlation id.
"""

from __future__ import annotations

import random
import uuid

import anyio

from adapters import open_store
from projections.deciders.leases import Lease, LeaseContention, LeaseService
from tests.contest.worker import Orders, run, say

KILL, PAUSE, RENEW = 0.04, 0.08, 0.4


class Worker:
    def __init__(self, leases: LeaseService, hub: str, owner: str, ttl: float, rng: random.Random):
        self.leases, self.hub, self.owner, self.ttl, self.rng = leases, hub, owner, ttl, rng

    async def renew(self, lease: Lease, corr: str) -> bool:
        renewed = await self.leases.renew(
            self.hub, lease.resource_id, self.owner, lease.token, ttl=self.ttl, correlation_id=corr
        )
        return renewed is not None

    async def release(self, lease: Lease, corr: str) -> bool:
        return await self.leases.release(
            self.hub, lease.resource_id, self.owner, lease.token, correlation_id=corr
        )

    async def pause_then_refused(self, lease: Lease) -> None:
        # Past the ttl by a margin far wider than the clock's uncertainty.
        await anyio.sleep(self.ttl + 0.3 + self.ttl / 2)
        for what, call in (("renew", self.renew), ("release", self.release)):
            corr = str(uuid.uuid4())
            refused = not await call(lease, corr)
            say(op="late", what=what, corr=corr, refused=refused, token=lease.token)

    async def hold(self, lease: Lease) -> None:
        await anyio.sleep(self.rng.uniform(0, self.ttl * 0.4))
        if self.rng.random() < RENEW:
            corr = str(uuid.uuid4())
            say(op="renew", corr=corr, ok=await self.renew(lease, corr), token=lease.token)
            await anyio.sleep(self.rng.uniform(0, self.ttl * 0.3))
        corr = str(uuid.uuid4())
        say(op="release", corr=corr, ok=await self.release(lease, corr), token=lease.token)

    async def one(self, resource: str, capacity: int, first: str) -> bool:
        """One acquire and what follows it; False when it was refused."""
        corr = str(uuid.uuid4())
        lease = await self.leases.acquire(
            self.hub, resource, self.owner, ttl=self.ttl, capacity=capacity, correlation_id=corr
        )
        if lease is None:
            say(op="full", resource=resource, corr=corr)
            await anyio.sleep(self.rng.uniform(0, self.ttl * 0.1))
            return False
        say(op="acquire", resource=resource, token=lease.token, corr=corr)
        roll = self.rng.random()
        if first == "kill" or (not first and roll < KILL):
            say(op="kill_me", resource=resource, token=lease.token, owner=self.owner)
            await anyio.sleep(3600)
        elif first == "pause" or (not first and roll < KILL + PAUSE):
            await self.pause_then_refused(lease)
        else:
            await self.hold(lease)
        return True


async def contend(orders: Orders) -> None:
    ttl, capacity, resources = orders.args
    rng = random.Random(orders.seed)
    names = resources.split(",")
    first = orders.first
    async with open_store(orders.url) as store:
        worker = Worker(LeaseService(store), orders.hub, orders.owner, float(ttl), rng)
        deadline = anyio.current_time() + orders.seconds
        while anyio.current_time() < deadline:
            try:
                if await worker.one(rng.choice(names), int(capacity), first):
                    first = ""
            except LeaseContention as exc:
                say(op="contention", error=str(exc))


if __name__ == "__main__":
    run(contend)
