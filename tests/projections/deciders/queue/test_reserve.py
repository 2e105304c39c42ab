"""Reservation with waiting, through the hub API, on every backend."""

from __future__ import annotations

import anyio
import pytest

from adapters.hub import HubPersistenceAdapter, ReservationTimeout, get_instance
from eventstore import EventStoreError, streams
from projections.deciders.queue import InvalidReservation, QueueContention, Requirements, rules
from projections.deciders.queue.log import QueueLog
from projections.deciders.queue.service import Ask, QueueService, _renewal
from tests.adapters.hub.instances import Instance, OllamaConfig
from tests.backends import Backend
from tests.projections.deciders.queue.checker import check

pytestmark = pytest.mark.anyio
HUB = "ollama-pool"
LIMIT = 30


async def queue_types(adapter: HubPersistenceAdapter) -> list[str]:
    store = await adapter.session.store()
    return [e.type async for e in store.read_stream(HUB, streams.queue())]


async def one_slot_pool(adapter: HubPersistenceAdapter, *names: str) -> None:
    for name in names or ("a",):
        config = OllamaConfig(models=["llama3"], max_concurrent=1)
        await adapter.save_instance(HUB, Instance(name, config=config))


async def test_a_free_slot_is_granted_at_once_and_recorded(adapter: HubPersistenceAdapter) -> None:
    with anyio.fail_after(LIMIT):
        await one_slot_pool(adapter)
        got = await adapter.reserve(HUB, requirements={"models": "llama3"}, owner_id="n1", ttl=30)
        assert (got.instance_id, got.token) == ("a", 1)
        assert await queue_types(adapter) == ["RequestQueued", "RequestGranted"]
        with pytest.raises(ReservationTimeout) as refused:  # full, and wait=0: nothing written
            await adapter.reserve(HUB, owner_id="n2", ttl=30)
        assert isinstance(refused.value, EventStoreError) and "Owner: n2" in str(refused.value)
        assert await queue_types(adapter) == ["RequestQueued", "RequestGranted"]


async def test_requirements_no_instance_meets_time_out(adapter: HubPersistenceAdapter) -> None:
    with anyio.fail_after(LIMIT):
        await one_slot_pool(adapter)
        with pytest.raises(ReservationTimeout):
            await adapter.reserve(HUB, requirements={"models": ["mistral"]}, owner_id="n", ttl=5)
        with pytest.raises(InvalidReservation):
            await adapter.reserve(HUB, owner_id="n", ttl=0)


async def test_waiters_are_granted_in_arrival_order(adapter: HubPersistenceAdapter) -> None:
    with anyio.fail_after(LIMIT):
        await one_slot_pool(adapter)
        held = await adapter.reserve(HUB, owner_id="holder", ttl=30)
        order: list[str] = []

        async def wait(owner: str) -> None:
            got = await adapter.reserve(HUB, owner_id=owner, ttl=30, wait=LIMIT)
            order.append(owner)
            await adapter.release_lock(got.instance_id, owner)

        async with anyio.create_task_group() as tg:
            for owner in ("w1", "w2", "w3"):
                tg.start_soon(wait, owner)
                while (await adapter.queue_stats(HUB)).depth < len(order) + int(owner[1]):
                    await anyio.sleep(0.01)  # each joins before the next
            with pytest.raises(ReservationTimeout):  # a newcomer never jumps the queue
                await adapter.reserve(HUB, owner_id="newcomer", ttl=30)
            await adapter.release_lock(held.instance_id, "holder")
        assert order == ["w1", "w2", "w3"]
        store = await adapter.session.store()
        assert check([e async for e in store.read_log(HUB)]).problems == []


async def test_a_cancelled_or_timed_out_waiter_leaves_the_queue(
    adapter: HubPersistenceAdapter,
) -> None:
    with anyio.fail_after(LIMIT):
        await one_slot_pool(adapter)
        await adapter.reserve(HUB, owner_id="holder", ttl=30)
        with anyio.move_on_after(0.3):
            await adapter.reserve(HUB, owner_id="impatient", ttl=30, wait=LIMIT)
        with pytest.raises(ReservationTimeout):
            await adapter.reserve(HUB, owner_id="patient", ttl=30, wait=0.3)
        store = await adapter.session.store()
        left = [e.event async for e in store.read_stream(HUB, streams.queue())][-1:]
        reasons = [e.reason async for e in _abandoned(adapter)]
        assert reasons == ["cancelled", "timeout"] and left[0].waiting == ()
        stats = await adapter.queue_stats(HUB)
        assert (stats.depth, stats.abandoned, stats.granted) == (0, 2, 1)


async def _abandoned(adapter: HubPersistenceAdapter):  # type: ignore[no-untyped-def]
    store = await adapter.session.store()
    async for e in store.read_stream(HUB, streams.queue()):
        if e.type == "RequestAbandoned":
            yield e.event


async def test_a_dead_waiter_is_dropped_after_its_deadline_and_a_restart_keeps_the_queue(
    adapter: HubPersistenceAdapter,
) -> None:
    with anyio.fail_after(LIMIT):
        await one_slot_pool(adapter)
        held = await adapter.reserve(HUB, owner_id="holder", ttl=30)
        store = await adapter.session.store()
        ghost = Ask(HUB, "ghost-1", "ghost", Requirements(), ttl_s=30, heartbeat_s=0.5, wait_s=60)
        # What a process wrote before it died: its join, and never a heartbeat.
        await adapter.queue.service(store).log.change(
            HUB, lambda view, at: rules.join(view, ghost.at(at), at), None
        )
        await adapter.shutdown()  # a restart: the next call opens the store again
        view = await adapter.queue.service(await adapter.session.store()).view(HUB)
        assert [w.owner for w in view.waiting] == ["ghost"]
        await adapter.release_lock(held.instance_id, "holder")
        got = await adapter.reserve(HUB, owner_id="next", ttl=30, wait=LIMIT)
        assert got.instance_id == "a"
        store = await adapter.session.store()
        events = [e async for e in store.read_log(HUB)]
        queue = [e.type for e in events if e.stream == streams.queue()]
        assert "RequestExpired" in queue and queue[-1] == "RequestGranted"
        assert check(events).problems == []


async def test_get_instance_is_a_reservation_without_waiting(
    adapter: HubPersistenceAdapter,
) -> None:
    with anyio.fail_after(LIMIT):
        await one_slot_pool(adapter, "a", "b")
        candidates = await adapter.list_instances(HUB)
        got = await get_instance(adapter, candidates, "me")
        assert got is not None and got["id"] == "a"
        assert "RequestGranted" in await queue_types(adapter)
        utilisation = await adapter.get_resource_utilization(HUB)
        assert utilisation["queue"]["granted"] == 1 and utilisation["queue"]["depth"] == 0


async def test_gleitzeit_queue_state_round_trips_as_events(
    adapter: HubPersistenceAdapter,
) -> None:
    with anyio.fail_after(LIMIT):
        assert await adapter.get_queue_state("tasks") is None
        await adapter.save_queue_state("tasks", {"pending": ["t1", "t2"], "paused": False})
        await adapter.save_queue_state("tasks", {"pending": ["t2"], "paused": False})
        assert await adapter.get_queue_state("tasks") == {"pending": ["t2"], "paused": False}
        assert await adapter.delete_queue_state("tasks")
        assert not await adapter.delete_queue_state("tasks")
        assert await adapter.get_queue_state("tasks") is None
        store = await adapter.session.store()
        types = [e.type async for e in store.read_stream("gleitzeit-queues", "queue/saved/tasks")]
        assert types == ["QueueStateSaved", "QueueStateSaved", "QueueStateDeleted"]


async def test_a_reservation_is_given_back_by_its_token(adapter: HubPersistenceAdapter) -> None:
    with anyio.fail_after(LIMIT):
        await one_slot_pool(adapter)
        held = await adapter.reserve(HUB, owner_id="holder", ttl=30)
        async with anyio.create_task_group() as tg:

            async def wait() -> None:
                got = await adapter.reserve(HUB, owner_id="waiter", ttl=30, wait=LIMIT)
                assert got.token > held.token  # fenced: a later lease
                assert await adapter.release(got)

            tg.start_soon(wait)
            while (await adapter.queue_stats(HUB)).depth < 1:
                await anyio.sleep(0.01)
            assert await adapter.release(held)
        assert not await adapter.release(held)  # given back already: nothing written
        assert await adapter.get_lock_owner("a") is None
        store = await adapter.session.store()
        assert check([e async for e in store.read_log(HUB)]).problems == []


class _LosingRenewals(QueueLog):
    """A queue log whose renewals lose ``losses`` whole rounds of races
    first, as on a busy queue shared by many processes."""

    def __init__(self, log: QueueLog, losses: int) -> None:
        super().__init__(log.store, log.clock, attempts=log.attempts)
        self.losses = losses

    async def change(self, hub_id, decide, correlation_id):  # type: ignore[no-untyped-def]
        if getattr(decide, "func", None) is _renewal and self.losses:
            self.losses -= 1
            raise QueueContention(hub_id, self.attempts)
        return await super().change(hub_id, decide, correlation_id)


# The heartbeat's loop is the service's, the same over every backend.
@pytest.mark.parametrize("backend", [Backend("memory")], ids=["memory"])
async def test_a_heartbeat_that_loses_every_race_tries_again_before_its_deadline(
    adapter: HubPersistenceAdapter,
) -> None:
    # Heartbeat 0.9 s, a beat every 0.3 s: three lost rounds, each retried
    # at the next beat, would leave the place unrenewed past its deadline.
    with anyio.fail_after(LIMIT):
        await one_slot_pool(adapter)
        await adapter.reserve(HUB, owner_id="holder", ttl=30)
        service = QueueService(await adapter.session.store(), heartbeat=0.9)
        service.log = _LosingRenewals(service.log, losses=3)
        with pytest.raises(ReservationTimeout):
            await service.reserve(
                HUB, requirements=None, owner_id="waiter", ttl=30, wait=1.5, pool=adapter.queue.pool
            )
        store = await adapter.session.store()
        queue = [e.type async for e in store.read_stream(HUB, streams.queue())]
        assert service.log.losses == 0 and "RequestExpired" not in queue
        assert queue[-1] == "RequestAbandoned" and "RequestRenewed" in queue
