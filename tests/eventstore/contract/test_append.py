"""append: versions, positions, conflicts, idempotent retries, atomic batches, bad input."""

from __future__ import annotations

from datetime import UTC

import pytest

from eventstore import (
    ANY,
    NO_STREAM,
    AppendResult,
    DuplicateEventError,
    EventStore,
    HubStarted,
    InvalidEventError,
    ResourceType,
    WrongExpectedVersion,
)
from tests.eventstore.contract.factories import checked, checks, granted, registered, sampled

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"


async def log_of(store: EventStore, hub: str = HUB) -> list[tuple[int, str, int, str]]:
    return [(e.position, e.stream, e.version, e.type) async for e in store.read_log(hub)]


async def test_first_append_creates_the_stream_at_version_n(store: EventStore) -> None:
    result = await store.append(HUB, A, [registered(), checked()], expected_version=NO_STREAM)

    assert result == AppendResult(version=2, first_position=1, last_position=2)
    assert list(result.positions) == [1, 2]
    assert await store.stream_version(HUB, A) == 2
    assert await store.head(HUB) == 2


async def test_positions_run_across_streams_and_versions_per_stream(store: EventStore) -> None:
    await store.append(HUB, A, [registered()])
    await store.append(HUB, "metrics/a", [sampled(), sampled(20)])
    await store.append(HUB, A, [checked()])

    assert await log_of(store) == [
        (1, A, 1, "InstanceRegistered"),
        (2, "metrics/a", 1, "MetricsSampled"),
        (3, "metrics/a", 2, "MetricsSampled"),
        (4, A, 2, "HealthChecked"),
    ]


async def test_hubs_have_independent_positions(store: EventStore) -> None:
    await store.append("hub-1", A, [registered()])
    second = await store.append("hub-2", A, [registered(), checked()])

    assert second.positions == range(1, 3)
    assert await store.head("hub-1") == 1
    assert await store.hubs() == ["hub-1", "hub-2"]


async def test_exact_expected_version_appends(store: EventStore) -> None:
    await store.append(HUB, A, [registered()], expected_version=0)
    result = await store.append(HUB, A, [checked()], expected_version=1)

    assert result.version == 2


async def test_wrong_expected_version_names_everything_and_writes_nothing(
    store: EventStore,
) -> None:
    await store.append(HUB, A, [registered(), checked()])

    with pytest.raises(WrongExpectedVersion) as caught:
        await store.append(HUB, A, [checked()], expected_version=1)

    assert caught.value.actual == 2
    assert str(caught.value) == (
        f"Wrong expected version: 1 (Hub: {HUB}, Stream: {A}, Expected: 1, Actual: 2)"
    )
    assert await store.head(HUB) == 2
    assert await store.stream_version(HUB, A) == 2


async def test_no_stream_conflicts_once_the_stream_exists(store: EventStore) -> None:
    await store.append(HUB, A, [registered()], expected_version=NO_STREAM)

    with pytest.raises(WrongExpectedVersion, match="Expected: NO_STREAM"):
        await store.append(HUB, A, [registered()], expected_version=NO_STREAM)


async def test_expected_version_on_a_missing_stream_conflicts(store: EventStore) -> None:
    with pytest.raises(WrongExpectedVersion, match="Actual: 0"):
        await store.append(HUB, A, [registered()], expected_version=3)

    assert await store.hubs() == []


async def test_retrying_a_written_batch_returns_the_original_result(store: EventStore) -> None:
    batch = [registered(), checked()]
    first = await store.append(HUB, A, batch, expected_version=NO_STREAM)
    await store.append(HUB, "metrics/a", [sampled()])

    # The same objects (same event ids), even with the now-stale expected version.
    again = await store.append(HUB, A, batch, expected_version=NO_STREAM)

    assert again == first
    assert await store.head(HUB) == 3


async def test_retrying_a_single_event_of_an_earlier_batch_returns_its_own_position(
    store: EventStore,
) -> None:
    batch = checks(3)
    await store.append(HUB, A, batch)

    assert await store.append(HUB, A, [batch[1]]) == AppendResult(2, 2, 2)


async def test_a_batch_mixing_written_and_new_ids_is_refused(store: EventStore) -> None:
    batch = [registered(), checked()]
    await store.append(HUB, A, batch)

    with pytest.raises(DuplicateEventError, match="mixes 1 event id"):
        await store.append(HUB, A, [batch[1], checked()])

    assert await store.head(HUB) == 2


async def test_ids_written_to_another_stream_are_refused(store: EventStore) -> None:
    event = checked()
    await store.append(HUB, A, [event])

    with pytest.raises(DuplicateEventError, match="different batch"):
        await store.append(HUB, "instance/b", [event])


async def test_ids_written_in_another_order_are_refused(store: EventStore) -> None:
    batch = checks(2)
    await store.append(HUB, A, batch)

    with pytest.raises(DuplicateEventError):
        await store.append(HUB, A, batch[::-1])


async def test_a_batch_repeating_an_id_is_refused(store: EventStore) -> None:
    event = checked()
    with pytest.raises(DuplicateEventError, match="repeats an event id"):
        await store.append(HUB, A, [event, event])

    assert await store.head(HUB) == 0


async def test_the_same_event_id_may_live_in_two_hubs(store: EventStore) -> None:
    event = registered()
    await store.append("hub-1", A, [event])

    assert (await store.append("hub-2", A, [event])).version == 1


@pytest.mark.parametrize(
    "bad_event",
    [
        pytest.param(lambda: HubStarted(resource_type=ResourceType.OLLAMA), id="wrong-category"),
        pytest.param(lambda: {"type": "HealthChecked"}, id="not-an-event"),
        pytest.param(
            lambda: HubStarted(
                resource_type=ResourceType.OLLAMA, settings={"blob": "x" * 2_000_000}
            ),
            id="too-large",
        ),
    ],
)
async def test_a_batch_with_one_bad_event_writes_nothing(store: EventStore, bad_event) -> None:
    await store.append(HUB, A, [registered()])

    with pytest.raises(InvalidEventError):
        await store.append(HUB, A, [checked(), bad_event(), checked()])

    assert await log_of(store) == [(1, A, 1, "InstanceRegistered")]
    assert await store.stream_version(HUB, A) == 1


async def test_an_oversized_event_is_refused_naming_the_limit(store: EventStore) -> None:
    store.max_event_bytes = 1000
    big = HubStarted(resource_type=ResourceType.OLLAMA, settings={"blob": "x" * 1200})

    with pytest.raises(InvalidEventError, match=r"the limit is 1000 \(max_event_bytes\)"):
        await store.append(HUB, "hub", [big])


@pytest.mark.parametrize(
    ("hub_id", "stream"),
    [
        ("", A),
        ("{tagged}", A),
        ("line\nbreak", A),
        (" padded", A),
        ("x" * 201, A),
        (42, A),
        (HUB, ""),
        (HUB, "instance/"),
        (HUB, "instance"),
        (HUB, "hub/extra"),
        (HUB, "widgets/a"),
        (HUB, "instance/a{b}"),
        (HUB, "instance/a\x00"),
    ],
)
async def test_bad_hub_ids_and_stream_names_are_refused(store: EventStore, hub_id, stream) -> None:
    with pytest.raises(InvalidEventError):
        await store.append(hub_id, stream, [checked()])


@pytest.mark.parametrize("expected", [-1, "1", 1.0, True, None])
async def test_bad_expected_versions_are_refused(store: EventStore, expected) -> None:
    with pytest.raises(InvalidEventError, match="expected_version"):
        await store.append(HUB, A, [checked()], expected_version=expected)


async def test_an_empty_batch_is_refused(store: EventStore) -> None:
    with pytest.raises(InvalidEventError, match="empty batch"):
        await store.append(HUB, A, [])


async def test_a_single_event_instead_of_a_batch_is_refused(store: EventStore) -> None:
    with pytest.raises(InvalidEventError, match="sequence of events"):
        await store.append(HUB, A, checked())  # type: ignore[arg-type]


async def test_envelope_carries_ids_and_the_backend_clock(store: EventStore) -> None:
    event = granted()
    before = await store.now()
    await store.append(
        HUB, "lock/gpu-1", [event], correlation_id="req-7", causation_id=event.event_id
    )
    after = await store.now()

    [recorded] = [e async for e in store.read_log(HUB)]

    assert recorded.hub_id == HUB
    assert recorded.stream == "lock/gpu-1"
    assert (recorded.version, recorded.position) == (1, 1)
    assert recorded.event_id == event.event_id
    assert recorded.type == "LockGranted"
    assert recorded.schema_version == 1
    assert recorded.correlation_id == "req-7"
    assert recorded.causation_id == str(event.event_id)
    assert recorded.recorded_at.tzinfo is not None
    assert recorded.recorded_at.utcoffset() == UTC.utcoffset(None)
    assert before <= recorded.recorded_at <= after
    assert recorded.event == event


async def test_any_appends_whatever_the_version(store: EventStore) -> None:
    await store.append(HUB, A, checks(4), expected_version=ANY)

    assert (await store.append(HUB, A, [checked()], expected_version=ANY)).version == 5
