"""A retry is answered only when the batch is there exactly as one earlier
append wrote it: same stream, consecutive versions *and* consecutive
positions (eventstore/backend.py ``resolve_retry``), on every backend."""

from __future__ import annotations

import pytest

from eventstore import DuplicateEventError, EventStore
from tests.eventstore.contract.factories import checked, registered

pytestmark = pytest.mark.anyio

HUB = "retry-hub"
A = "instance/a"
B = "instance/b"


async def test_ids_written_by_two_appends_with_another_stream_between_are_not_one_batch(
    store: EventStore,
) -> None:
    first, second = checked(), checked(ok=False)
    await store.append(HUB, A, [registered()])  # A v1, position 1
    await store.append(HUB, A, [first])  # A v2, position 2
    await store.append(HUB, B, [registered("ollama-2")])  # B v1, position 3
    await store.append(HUB, A, [second])  # A v3, position 4: versions follow, positions do not

    with pytest.raises(DuplicateEventError) as caught:
        await store.append(HUB, A, [first, second])

    assert str(caught.value) == (
        f"event ids of this batch were already written to hub {HUB!r} as a different batch "
        f"(stream {A!r}, version 3), not to {A!r}"
    )
    assert await store.head(HUB) == 4


async def test_a_whole_batch_retried_answers_its_own_versions_and_positions(
    store: EventStore,
) -> None:
    await store.append(HUB, B, [registered("ollama-2")])  # position 1
    batch = [registered(), checked(), checked()]
    written = await store.append(HUB, A, batch)  # A v1..3, positions 2..4

    again = await store.append(HUB, A, batch)

    assert (again.version, again.first_position, again.last_position) == (3, 2, 4)
    assert again == written
    assert await store.head(HUB) == 4
