"""Black box: callers of ``reserve`` cancelled at random moments leave no
lease behind that nobody holds (docs/queue.md rule 2: a lease is never kept
without its grant).

Eight clients make 160 reservations of a pool with four slots; a quarter of
the calls are cancelled by their callers after a random short time
(``anyio.move_on_after``).  Every client releases what it got.  At the end
no slot may still be held: a held slot is a lease written for a caller who
never received it (before the one decide loop shielded its append, about
two per run on every backend).
"""

from __future__ import annotations

import random

import anyio
import pytest

from adapters.hub import HubPersistenceAdapter, ReservationTimeout
from tests.adapters.hub.fixtures import adapter, anyio_backend, backend
from tests.adapters.hub.instances import Instance, OllamaConfig

__all__ = ["adapter", "anyio_backend", "backend"]

pytestmark = pytest.mark.anyio
HUB = "cancel-pool"
CLIENTS, CALLS, CANCELLED = 8, 160, 0.25


async def held_slots(adapter: HubPersistenceAdapter) -> dict[str, list[str]]:
    """Each instance's live lease holders (owner ids), as the log says."""
    service = adapter.queue.service(await adapter.session.store())
    held = {}
    for name in ("a", "b"):
        holders = await service.leases.holders(HUB, name)
        if holders:
            held[name] = sorted(h.owner for h in holders)
    return held


async def test_cancelled_callers_leave_no_lease_held(adapter: HubPersistenceAdapter) -> None:
    for name in ("a", "b"):
        config = OllamaConfig(models=["llama3"], max_concurrent=2)
        await adapter.save_instance(HUB, Instance(name, config=config))
    rng = random.Random(31)
    plan = [rng.random() < CANCELLED for _ in range(CALLS)]
    cancelled = granted = 0

    async def client(number: int) -> None:
        nonlocal cancelled, granted
        for call in range(number, CALLS, CLIENTS):
            owner = f"client-{number}-{call}"
            got = None
            deadline = rng.uniform(0.0, 0.02) if plan[call] else 30.0
            with anyio.move_on_after(deadline) as scope:
                try:
                    got = await adapter.reserve(HUB, owner_id=owner, ttl=60, wait=2.0)
                except ReservationTimeout:
                    pass
            cancelled += scope.cancelled_caught
            if got is not None:
                granted += 1
                await anyio.sleep(rng.uniform(0, 0.005))
                await adapter.release_lock(got.instance_id, owner)

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            for number in range(CLIENTS):
                tg.start_soon(client, number)

    assert cancelled > 0 and granted > CALLS // 2  # the run did what it says
    assert await held_slots(adapter) == {}
