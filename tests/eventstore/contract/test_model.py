"""Model-based: random batches with random expected versions and retries behave on
every backend exactly as on the in-memory reference."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.memory import MemoryEventStore
from eventstore import ANY, NO_STREAM, Event, EventStore, EventStoreError
from tests.eventstore.contract.factories import checked

pytestmark = pytest.mark.anyio

STREAMS = ["instance/a", "instance/b", "instance/c"]


@dataclass(frozen=True)
class Op:
    stream: str
    size: int
    expected: str | int  # "any", "no_stream", or an offset from the reference's version
    retry: int | None  # re-append an earlier batch (by index), unchanged
    mix: bool  # add a fresh event to the retried batch (must be refused)


ops = st.lists(
    st.builds(
        Op,
        stream=st.sampled_from(STREAMS),
        size=st.integers(1, 3),
        expected=st.one_of(st.sampled_from(["any", "no_stream"]), st.integers(-1, 1)),
        retry=st.one_of(st.none(), st.integers(0, 20)),
        mix=st.booleans(),
    ),
    min_size=1,
    max_size=12,
)


async def attempt(
    store: EventStore, hub: str, stream: str, batch: list[Event], expected: object
) -> object:
    try:
        return await store.append(hub, stream, batch, expected_version=expected)  # type: ignore[arg-type]
    except EventStoreError as exc:
        return type(exc).__name__


async def log_of(store: EventStore, hub: str) -> list[tuple]:
    return [
        (e.position, e.stream, e.version, e.event_id, e.type) async for e in store.read_log(hub)
    ]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=ops)
async def test_random_batches_match_the_reference(store: EventStore, script: list[Op]) -> None:
    hub = f"model-{uuid4().hex[:10]}"  # examples share the store, never a hub
    reference = MemoryEventStore()
    history: list[tuple[str, list[Event]]] = []

    for op in script:
        stream, batch = op.stream, [checked() for _ in range(op.size)]
        if op.retry is not None and history:
            stream, batch = history[op.retry % len(history)]
            batch = [*batch, checked()] if op.mix else batch
        if op.expected == "any":
            expected: object = ANY
        elif op.expected == "no_stream":
            expected = NO_STREAM
        else:
            expected = max(0, await reference.stream_version(hub, stream) + int(op.expected))

        wanted = await attempt(reference, hub, stream, batch, expected)
        got = await attempt(store, hub, stream, batch, expected)

        assert got == wanted, f"{op}: backend gave {got!r}, the reference {wanted!r}"
        if not isinstance(wanted, str):
            history.append((stream, batch))

    assert await log_of(store, hub) == await log_of(reference, hub)
    for stream in STREAMS:
        assert await store.stream_version(hub, stream) == await reference.stream_version(
            hub, stream
        )
