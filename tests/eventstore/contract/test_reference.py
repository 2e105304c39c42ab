"""Random batches — expected versions, retries, mixed retries, repeated ids —
on every backend, memory included, against the independent reference of
``tests/eventstore/contract/reference.py`` (no code shared with ``eventstore/store.py``)."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore import ANY, NO_STREAM, EventStore, EventStoreError
from tests.eventstore.contract.factories import checked
from tests.eventstore.contract.reference import Reference

pytestmark = pytest.mark.anyio

STREAMS = ["instance/a", "instance/b"]

steps = st.lists(
    st.tuples(
        st.sampled_from(STREAMS),
        st.integers(1, 3),  # batch size
        st.one_of(st.sampled_from(["any", "no_stream"]), st.integers(0, 4)),
        st.one_of(st.none(), st.integers(0, 10)),  # retry an earlier batch
        st.sampled_from(["as is", "plus one", "repeat an id"]),
    ),
    min_size=1,
    max_size=10,
)


async def answer(
    store: EventStore, hub: str, stream: str, events: list, expected: object
) -> object:
    wanted = ANY if expected == "any" else NO_STREAM if expected == "no_stream" else expected
    try:
        result = await store.append(hub, stream, events, expected_version=wanted)  # type: ignore[arg-type]
    except EventStoreError as exc:
        return type(exc).__name__
    return (result.version, result.first_position, result.last_position)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=steps)
async def test_every_backend_answers_as_the_reference(store: EventStore, script: list) -> None:
    hub = f"reference-{uuid4().hex[:10]}"
    reference = Reference()
    batches: list[tuple[str, list]] = []
    for stream, size, expected, retry, twist in script:
        events = [checked() for _ in range(size)]
        if retry is not None and batches:
            stream, events = batches[retry % len(batches)]
        if twist == "plus one":
            events = [*events, checked()]
        elif twist == "repeat an id":
            events = [*events, events[0]]

        wanted = reference.append(stream, [e.event_id for e in events], expected)
        got = await answer(store, hub, stream, events, expected)

        assert got == wanted, (stream, len(events), expected, twist)
        if isinstance(wanted, tuple):
            batches.append((stream, events))

    logged = [(e.position, e.stream, e.version, e.event_id) async for e in store.read_log(hub)]
    assert logged == reference.log
    for stream in STREAMS:
        rows = [
            (e.position, e.stream, e.version, e.event_id)
            async for e in store.read_stream(hub, stream)
        ]
        assert rows == reference.stream(stream)
        assert await store.stream_version(hub, stream) == reference.version(stream)
