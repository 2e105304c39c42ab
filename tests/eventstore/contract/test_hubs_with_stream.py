"""hubs_with_stream: the hubs whose log has a stream, how a call by instance
id finds its hub — exact (never a hub too many or too few), sorted, after
appends and imports alike."""

from __future__ import annotations

import pytest

from eventstore import EventStore, InvalidEventError, WrongExpectedVersion
from eventstore.envelope import NO_STREAM
from tests.eventstore.contract.factories import checks, registered, sampled
from tests.eventstore.contract.test_import import record

pytestmark = pytest.mark.anyio

A = "instance/a"


async def test_the_hubs_with_a_stream_are_those_that_appended_to_it(store: EventStore) -> None:
    assert await store.hubs_with_stream(A) == []
    await store.append("pool-b", A, [registered()])
    await store.append("pool-a", A, [registered(), *checks(2)])
    await store.append("pool-c", "instance/c", [registered()])
    await store.append("pool-c", "metrics/a", [sampled()])

    assert await store.hubs_with_stream(A) == ["pool-a", "pool-b"]
    assert await store.hubs_with_stream("instance/c") == ["pool-c"]
    assert await store.hubs_with_stream("metrics/a") == ["pool-c"]
    assert await store.hubs_with_stream("instance/nowhere") == []


async def test_a_refused_first_append_leaves_the_hub_out(store: EventStore) -> None:
    await store.append("pool-a", A, [registered()])
    with pytest.raises(WrongExpectedVersion):
        await store.append("pool-b", A, [registered()], expected_version=3)
    await store.append("pool-a", A, checks(1), expected_version=1)
    with pytest.raises(WrongExpectedVersion):
        await store.append("pool-a", A, checks(1), expected_version=NO_STREAM)

    assert await store.hubs_with_stream(A) == ["pool-a"]


async def test_imported_streams_are_found_like_appended_ones(store: EventStore) -> None:
    await store.import_events(
        "copy", [record(registered(), 1, 1, hub="copy"),
                 record(sampled(), 2, 1, "metrics/a", hub="copy")]
    )  # fmt: skip
    assert await store.hubs_with_stream(A) == ["copy"]
    assert await store.hubs_with_stream("metrics/a") == ["copy"]


async def test_a_bad_stream_name_is_refused(store: EventStore) -> None:
    with pytest.raises(InvalidEventError):
        await store.hubs_with_stream("no-category")
