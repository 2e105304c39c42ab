"""The queue read model's rows, whole: one per request that left the queue,
with how it left, when, after how long, and — for a grant — where.

The fold is the projection's own (``QueueProjection.evolve``); the events are
a real queue's, written by the service on a memory store whose clock the
test moves (every time exact).  ``test_readmodel.py`` runs the same model on
every backend through a runner.
"""

from __future__ import annotations

import anyio
import pytest

from projections import keys
from projections.deciders.queue import Reservation, ReservationTimeout
from projections.queue import QueueModel, QueueProjection, fold
from projections.queue.readmodel import WaitRow
from tests import backends
from tests.projections.deciders.queue.test_service import HUB, LIMIT, T0, Bench, at, candidate

pytestmark = pytest.mark.anyio


anyio_backend = backends.asyncio_only  # a memory store: no backend's async library to follow


async def test_each_request_that_left_the_queue_is_one_row_of_its_ending() -> None:
    bench = Bench(candidate("a"))
    with anyio.fail_after(LIMIT):
        first = await bench.reserve("n1")  # granted at once
        with pytest.raises(ReservationTimeout):
            await bench.reserve("impatient", wait=0.05)
        got: list[Reservation] = []
        async with anyio.create_task_group() as tg:

            async def wait() -> None:
                got.append(await bench.reserve("w", wait=LIMIT))

            tg.start_soon(wait)
            await bench.until_waiting("w")
            bench.seconds = 2.5
            await bench.service.leases.release(HUB, "a", "n1", first.token)
        await bench.ghost("g")
        bench.seconds = 1003.0
        assert await bench.service.reap(HUB) == 1
    queue = await bench.queue()
    state = QueueModel()
    for recorded in queue:
        state = QueueProjection().evolve(state, recorded)

    ended = [e for e in queue if e.type in ("RequestGranted", "RequestAbandoned", "RequestExpired")]
    ids = [e.correlation_id for e in ended]
    rows = [
        WaitRow(position=ended[0].position, request_id=first.request_id, owner="n1",
                outcome="granted", ended_at=T0, waited_s=0.0, instance_id="a"),
        WaitRow(position=ended[1].position, request_id=str(ids[1]), owner="impatient",
                outcome="timeout", ended_at=T0, waited_s=0.0),
        WaitRow(position=ended[2].position, request_id=got[0].request_id, owner="w",
                outcome="granted", ended_at=at(2.5), waited_s=2.5, instance_id="a"),
        WaitRow(position=ended[3].position, request_id="g", owner="ghost", outcome="expired",
                ended_at=at(1003), waited_s=1000.5),
    ]  # fmt: skip
    assert state.waits == {keys.seq(row.position): row for row in rows}
    assert state.queue == fold(queue)
    assert (state.queue.granted, state.queue.abandoned, state.queue.expired) == (2, 1, 1)
