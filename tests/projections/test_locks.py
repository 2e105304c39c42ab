"""The lock table (hub projection): capacity, holders, fencing tokens, expiry
judged by the backend's clock, on every backend."""

from __future__ import annotations

import anyio
import pytest

from eventstore import EventStore
from projections import HubProjection, ReadModels, ReadModelStore
from tests.projections.script import HUB, Script, folded_rows, run, stored_rows

pytestmark = pytest.mark.anyio

HUBP = HubProjection()


async def kinds(reader: ReadModels) -> list[str]:
    return [a.kind for a in await reader.anomalies(HUBP, HUB)]


async def test_a_lease_of_capacity_n_has_n_holders(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    await script.grant("ollama-1", "node-a", capacity=2)
    await script.grant("ollama-1", "node-b", capacity=2)
    await run(store, storage, HUBP)
    assert await kinds(reader) == []

    await script.grant("ollama-1", "node-c", capacity=2)
    await run(store, storage, HUBP)

    lock = (await reader.locks(HUB))["ollama-1"]
    assert [(h.owner, h.token) for h in lock.holders] == [
        ("node-a", 1),
        ("node-b", 2),
        ("node-c", 3),
    ]
    assert (lock.capacity, lock.last_token, lock.grants) == (2, 3, 3)
    assert await kinds(reader) == ["lease_over_capacity"]


async def test_only_a_holder_renews_or_releases(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    await script.grant("r", "node-a", ttl=30)
    await script.renew("r", "node-a", 1, ttl=60)
    await script.renew("r", "node-b", 1)  # not its lease
    await script.release("r", "node-a", 2)  # not its token
    await run(store, storage, HUBP)

    lock = (await reader.locks(HUB))["r"]
    assert [(h.owner, h.ttl_s) for h in lock.holders] == [("node-a", 60.0)]
    assert lock.owner(lock.holders[0].granted_at) == "node-a"

    await script.release("r", "node-a", 1)
    await run(store, storage, HUBP)
    lock = (await reader.locks(HUB))["r"]
    assert (lock.holders, lock.renewals, lock.releases) == ((), 1, 1)
    assert lock.owner(None) is None
    assert await kinds(reader) == ["lease_change_by_non_holder", "lease_change_by_non_holder"]


async def test_fencing_tokens_must_rise(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    await script.grant("r", "node-a", capacity=3, token=5)
    await script.grant("r", "node-b", capacity=3, token=5)
    await script.grant("r", "node-c", capacity=3, token=4)
    await run(store, storage, HUBP)

    assert (await reader.locks(HUB))["r"].last_token == 5
    assert await kinds(reader) == ["fencing_token_not_increasing", "fencing_token_not_increasing"]


async def test_expiry_is_judged_by_the_backends_clock(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    await script.grant("r", "node-a", ttl=0.001)
    await anyio.sleep(0.01)  # the lease runs out before the next append is recorded
    await script.grant("r", "node-b")  # not over capacity: node-a's lease has expired
    await script.expire("r", "node-a", 1)  # already dropped by the grant: fine
    await script.expire("r", "node-b", 2)  # its lease runs 30 s more
    await script.expire("r", "node-z", 9)  # never granted
    await script.renew("r", "node-a", 1)  # too late
    await run(store, storage, HUBP)

    lock = (await reader.locks(HUB))["r"]
    assert (lock.holders, lock.expiries, lock.grants) == ((), 1, 2)
    assert await kinds(reader) == [
        "lease_expired_before_expiry",
        "lease_change_by_non_holder",
        "lease_change_by_non_holder",
    ]
    assert await stored_rows(storage, HUBP) == await folded_rows(store, HUBP)
