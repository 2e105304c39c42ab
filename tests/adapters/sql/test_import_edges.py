"""SQL import of a batch bigger than one lookup: the batch's streams and event
ids are looked up ``LOOKUP_CHUNK`` at a time (one ``IN (...)`` each, under
SQLite's bound-parameter limit), and what the log holds is found in the last
chunk as in the first."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import msgspec
import pytest

from adapters.sql.importing import LOOKUP_CHUNK
from eventstore import DuplicateEventError, EventStore
from eventstore.envelope import StoredEvent

pytestmark = pytest.mark.anyio

HUB = "import-edges"
T = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
MANY = 2 * LOOKUP_CHUNK  # more than a chunk, and than chunks started at 0..LOOKUP_CHUNK-1 reach


def stored(position: int, version: int, stream: str) -> StoredEvent:
    return StoredEvent(
        hub_id=HUB,
        stream=stream,
        version=version,
        position=position,
        event_id=uuid4(),
        type="HealthChecked",
        schema_version=1,
        data=b"{}",
        recorded_at=T,
    )


def conflict(event: StoredEvent, why: str) -> str:
    return (
        f"Import conflict: HealthChecked {event.event_id} at position {event.position} "
        f"(stream {event.stream!r}, version {event.version}) of hub {HUB!r}: "
        f"{why}; the logs disagree, nothing of this batch was written"
    )


async def log_of(store: EventStore) -> list[tuple[int, str, int, UUID]]:
    return [(e.position, e.stream, e.version, e.event_id) async for e in store.read_log(HUB)]


async def test_a_stream_past_the_first_lookups_already_at_the_version_is_an_import_conflict(
    store: EventStore,
) -> None:
    names = [f"instance/s{i:04d}" for i in range(MANY)]  # sorted: the last is looked up last
    last = names[-1]
    here = stored(1, 1, last)
    assert await store.import_events(HUB, [here]) == 1
    batch = [stored(2 + i, 1, name) for i, name in enumerate(names)]

    with pytest.raises(DuplicateEventError) as caught:
        await store.import_events(HUB, batch)

    assert str(caught.value) == conflict(batch[-1], f"stream {last!r} is already at version 1")
    assert await log_of(store) == [(1, last, 1, here.event_id)]
    assert (await store.head(HUB), await store.stream_version(HUB, last)) == (1, 1)
    assert await store.stream_version(HUB, names[0]) == 0


async def test_an_event_id_past_the_first_lookups_the_log_has_elsewhere_is_an_import_conflict(
    store: EventStore,
) -> None:
    here = stored(1, 1, "instance/a")
    assert await store.import_events(HUB, [here]) == 1
    new = [stored(1 + v, v, "instance/b") for v in range(1, MANY)]
    stray = msgspec.structs.replace(here, position=MANY + 1, version=MANY, stream="instance/b")
    batch = [*new, stray]  # the known id is the batch's last, in the last lookup

    with pytest.raises(DuplicateEventError) as caught:
        await store.import_events(HUB, batch)

    assert str(caught.value) == conflict(
        stray, "the log has this event id at position 1 (stream 'instance/a', version 1)"
    )
    assert await log_of(store) == [(1, "instance/a", 1, here.event_id)]
    assert (await store.head(HUB), await store.stream_version(HUB, "instance/b")) == (1, 0)
