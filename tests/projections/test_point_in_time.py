"""state_at: instances, locks and summary as they were, from the nearest snapshot."""

from __future__ import annotations

from datetime import datetime

import anyio
import pytest

from eventstore import EventStore, InvalidEventError
from projections import HubProjection, InvalidQuery, ReadModelStore, fold, state_at
from projections.tables import trim
from tests.projections.script import HUB, S, Script, run
from tests.projections.test_runner import a_busy_hub

pytestmark = pytest.mark.anyio

HUBP = HubProjection()


async def test_state_at_a_position_is_the_fold_up_to_it(
    store: EventStore, storage: ReadModelStore
) -> None:
    await a_busy_hub(store)
    await run(store, storage, HUBP, batch_size=4, snapshot_every=10)
    events = [e async for e in store.read_log(HUB)]

    for position in (0, 1, 9, 10, 11, 37, len(events)):
        view = await state_at(store, storage, HUB, position=position)
        expected = trim(fold(HUBP, events[:position]))
        assert (view.position, view.instances, view.locks) == (
            position,
            expected.instances,
            expected.locks,
        )
        assert (view.summary, view.hub, view.as_of) == (
            expected.summary,
            expected.meta.hub,
            expected.meta.clock,
        )
        assert (
            view.replayed < 10 + 4
        )  # the last snapshot is at most one interval and one batch back
        without = await state_at(store, None, HUB, position=position)
        assert without.replayed == position
        assert (without.instances, without.locks, without.summary) == (
            view.instances,
            view.locks,
            view.summary,
        )


async def test_state_at_a_time_is_the_state_after_the_last_event_by_then(
    store: EventStore, storage: ReadModelStore
) -> None:
    script = Script(store)
    await script.healthy("a")
    await anyio.sleep(0.02)
    middle = await store.now()
    await anyio.sleep(0.02)
    await script.check("a", False)
    await script.check("a", False)
    await script.change("a", S.HEALTHY, S.DEGRADED)

    then = await state_at(store, storage, HUB, time=middle)
    now = await state_at(store, storage, HUB, time=await store.now())

    assert then.position == 3 and then.instances["a"].status == S.HEALTHY
    assert now.position == 6 and now.instances["a"].status == S.DEGRADED
    assert (then.summary.available, now.summary.by_status) == (1, {"degraded": 1})


async def test_state_at_refuses_what_cannot_be_answered(
    store: EventStore, storage: ReadModelStore
) -> None:
    await Script(store).register("a")

    with pytest.raises(InvalidQuery, match="exactly one"):
        await state_at(store, storage, HUB)
    with pytest.raises(InvalidQuery, match=r"outside hub 'ollama-pool'\'s log \(0..1\)"):
        await state_at(store, storage, HUB, position=2)
    with pytest.raises(InvalidEventError, match="timezone-aware"):
        await state_at(store, storage, HUB, time=datetime(2026, 1, 1))  # naive on purpose
