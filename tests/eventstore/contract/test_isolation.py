"""Hubs are isolated on every path, the conflict and retry paths included:
event ids written to one hub say nothing about another."""

from __future__ import annotations

import pytest

from eventstore import NO_STREAM, EventStore, WrongExpectedVersion
from tests.eventstore.contract.factories import checks, registered

pytestmark = pytest.mark.anyio

A = "instance/a"


async def test_a_conflict_in_one_hub_is_not_answered_with_another_hubs_batch(
    store: EventStore,
) -> None:
    batch = [registered(), *checks(2)]
    await store.append("hub-1", A, batch)  # these ids are written to hub-1 only
    await store.append("hub-2", A, [registered("other")])

    # In hub-2 the same ids are new, so an expected-version mismatch is a
    # plain conflict; a retry lookup without its hub condition would find
    # hub-1's rows and answer as if this batch were written here.
    with pytest.raises(WrongExpectedVersion):
        await store.append("hub-2", A, batch, expected_version=NO_STREAM)

    assert await store.head("hub-2") == 1


async def test_the_same_event_ids_may_be_written_to_two_hubs(store: EventStore) -> None:
    batch = [registered(), *checks(2)]
    first = await store.append("hub-1", A, batch)
    second = await store.append("hub-2", A, batch)

    assert list(first.positions) == list(second.positions) == [1, 2, 3]
    assert [e.event_id async for e in store.read_log("hub-2")] == [e.event_id for e in batch]
