"""Which hubs a command covers: the one named (which must exist) or all;
and for commands about one hub, the only one there is."""

from __future__ import annotations

import pytest

from adapters.memory import MemoryEventStore
from adapters.replay.errors import InvalidInput, UnknownHub
from adapters.replay.scope import hubs_in_scope, one_hub
from tests.projections.script import Script

pytestmark = pytest.mark.anyio

WHERE = "memory://"


@pytest.fixture
async def two_hubs(store: MemoryEventStore) -> MemoryEventStore:
    for hub in ("pool-b", "pool-a"):
        await Script(store, hub).started()
    return store


async def test_no_hub_named_means_every_hub_sorted(two_hubs: MemoryEventStore) -> None:
    assert await hubs_in_scope(two_hubs, None, WHERE) == ["pool-a", "pool-b"]
    assert await hubs_in_scope(two_hubs, "pool-b", WHERE) == ["pool-b"]


async def test_an_unknown_hub_lists_the_hubs_there_are(two_hubs: MemoryEventStore) -> None:
    with pytest.raises(UnknownHub) as raised:
        await hubs_in_scope(two_hubs, "pool-c", WHERE)

    assert str(raised.value) == "no hub 'pool-c' in memory:// (hubs there: pool-a, pool-b)"
    assert (raised.value.hub_id, raised.value.known) == ("pool-c", ["pool-a", "pool-b"])
    assert isinstance(raised.value, LookupError)


async def test_one_hub_is_the_one_named_or_the_only_one(two_hubs: MemoryEventStore) -> None:
    only = MemoryEventStore()
    await Script(only, "solo").started()

    assert await one_hub(two_hubs, "pool-a", WHERE, "report") == "pool-a"
    assert await one_hub(only, None, WHERE, "report") == "solo"


async def test_one_hub_of_several_must_be_named(two_hubs: MemoryEventStore) -> None:
    with pytest.raises(InvalidInput) as raised:
        await one_hub(two_hubs, None, WHERE, "report")

    assert str(raised.value) == (
        "memory:// holds 2 hubs (pool-a, pool-b): say which with --hub for report"
    )


async def test_one_hub_of_none(store: MemoryEventStore) -> None:
    with pytest.raises(InvalidInput) as raised:
        await one_hub(store, None, WHERE, "report")
    with pytest.raises(UnknownHub) as named:
        await one_hub(store, "pool-a", WHERE, "report")

    assert str(raised.value) == "memory:// holds no hubs yet: nothing to report"
    assert str(named.value) == "no hub 'pool-a' in memory:// (hubs there: none)"
