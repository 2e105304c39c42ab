"""A damaged row never takes a hub down: it reads as a CorruptEvent in its
place, the rest of the page and the log read normally, the runner
quarantines it, and a hub whose head was lowered behind hublog's back stays
writable.  Before, each of these made a whole hub unreadable or unwritable
with a raw driver error (or BackendUnavailable, retried forever)."""

from __future__ import annotations

import pytest

from adapters.sql import SQLEventStore
from eventstore import CorruptEvent, EventStore
from projections import HubProjection, ProjectionRunner
from tests import backends
from tests.eventstore.contract.factories import checks, registered

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"


# Both async libraries: a damaged row must read the same under either.
anyio_backend = backends.asyncio_and_trio


def damage(store: EventStore, sql: str | dict[str, str]) -> None:
    """Run raw SQL against the store's database, as a broken tool would."""
    assert isinstance(store, SQLEventStore)
    statement = sql if isinstance(sql, str) else sql[store.dialect]
    with store.engine.begin() as conn:
        conn.exec_driver_sql(statement)


async def a_hub_of_three(store: EventStore) -> None:
    await store.append(HUB, A, [registered(), *checks(2)])


CORRUPTIONS: dict[str, dict[str, str]] = {
    "a recorded_at that is not a time": {
        "sqlite": "UPDATE hublog_events SET recorded_at = 'yesterday-ish' WHERE position = 2",
        "postgresql": "UPDATE hublog_events SET recorded_at = 'infinity' WHERE position = 2",
    },
    "an event_id that is not a UUID": {
        "sqlite": "UPDATE hublog_events SET event_id = 'not-a-uuid' WHERE position = 2",
        # PostgreSQL's uuid type cannot hold one; a -infinity time instead:
        "postgresql": "UPDATE hublog_events SET recorded_at = '-infinity' WHERE position = 2",
    },
    "non-UTF-8 text in the payload column": {
        "sqlite": "UPDATE hublog_events SET data = CAST(X'FFFE00' AS TEXT) WHERE position = 2",
        "postgresql": "UPDATE hublog_events SET data = '\\xfffe00'::bytea WHERE position = 2",
    },
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
async def test_a_damaged_row_reads_as_corrupt_and_the_rest_reads_normally(
    store: EventStore, corruption: str
) -> None:
    await a_hub_of_three(store)
    damage(store, CORRUPTIONS[corruption])

    log = [e async for e in store.read_log(HUB)]
    stream = [e async for e in store.read_stream(HUB, A)]

    for events in (log, stream):
        assert [e.position for e in events] == [1, 2, 3]
        assert events[0].is_readable and events[2].is_readable
        assert isinstance(events[1].event, CorruptEvent)


async def test_the_runner_quarantines_a_damaged_row_and_goes_on(store: EventStore) -> None:
    await a_hub_of_three(store)
    damage(store, CORRUPTIONS["a recorded_at that is not a time"])

    async with store.readmodel_store() as storage:  # type: ignore[attr-defined]
        runner = ProjectionRunner(store, storage, HubProjection(), HUB)
        assert await runner.catch_up() == 3
        assert runner.state.meta.quarantined == 1


@pytest.mark.parametrize("lowered", ["the hub head", "a stream version"])
async def test_a_hub_whose_counters_were_lowered_behind_its_back_stays_writable(
    store: EventStore, lowered: str
) -> None:
    await a_hub_of_three(store)
    if lowered == "the hub head":
        damage(store, "UPDATE hublog_hubs SET head = 1")
    else:
        damage(store, "UPDATE hublog_streams SET version = 1")

    result = await store.append(HUB, A, checks(1))

    assert list(result.positions) == [4]
    assert result.version == 4
    assert [e.position async for e in store.read_log(HUB)] == [1, 2, 3, 4]
    assert await store.head(HUB) == 4
