"""Bad input gets a clear InvalidEventError naming what was wrong, the same
on every backend, and nothing is written.  Before, these reached the drivers:
a raw DataError on PostgreSQL for a long or NUL correlation id (accepted
elsewhere), a raw UnicodeEncodeError for a lone surrogate, OverflowError or
wrong answers for positions beyond 2**63."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eventstore import EventStore, InvalidEventError, Metrics, MetricsSampled
from tests.eventstore.contract.factories import registered

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"
TOO_BIG = 2**63


async def nothing_written(store: EventStore) -> bool:
    return await store.head(HUB) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("correlation_id", "x" * 201, "correlation_id must be 1..200 characters"),
        ("correlation_id", "a\x00b", "correlation_id 'a\\x00b' contains characters"),
        ("causation_id", "\ud800", "causation_id '\\ud800' contains characters"),
        ("causation_id", "", "causation_id must be 1..200 characters"),
        ("correlation_id", 42, "correlation_id must be a str or UUID"),
    ],
)
async def test_a_bad_correlation_or_causation_id_is_refused_by_name(
    store: EventStore, field: str, value: object, message: str
) -> None:
    with pytest.raises(InvalidEventError, match=message.replace("\\", "\\\\").replace("(", r"\(")):
        await store.append(HUB, A, [registered()], **{field: value})  # type: ignore[arg-type]

    assert await nothing_written(store)


@pytest.mark.parametrize(
    ("hub", "stream"), [("pool-\ud800", A), (HUB, "instance/\udfff"), ("pool\x00", A)]
)
async def test_a_lone_surrogate_or_nul_in_a_name_is_refused(
    store: EventStore, hub: str, stream: str
) -> None:
    with pytest.raises(InvalidEventError, match="contains characters the log refuses"):
        await store.append(hub, stream, [registered()])

    assert await store.hubs() == []


async def test_positions_versions_and_limits_beyond_64_bits_are_refused(store: EventStore) -> None:
    await store.append(HUB, A, [registered()])
    reads = {
        "after_version": lambda: store.read_stream(HUB, A, after_version=TOO_BIG),
        "before_version": lambda: store.read_stream(HUB, A, before_version=TOO_BIG),
        "after": lambda: store.read_log(HUB, after=TOO_BIG),
        "limit": lambda: store.read_log(HUB, limit=TOO_BIG),
    }
    for name, read in reads.items():
        with pytest.raises(InvalidEventError, match=f"{name} must be an int in 0..2\\*\\*63-1"):
            [e async for e in read()]
    with pytest.raises(InvalidEventError, match="expected_version"):
        await store.append(HUB, A, [registered("b")], expected_version=TOO_BIG)


async def test_the_largest_position_is_still_accepted(store: EventStore) -> None:
    await store.append(HUB, A, [registered()])

    assert [e async for e in store.read_log(HUB, after=TOO_BIG - 1)] == []
    assert [e async for e in store.read_stream(HUB, A, after_version=TOO_BIG - 1)] == []


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
async def test_a_metric_that_is_not_a_finite_number_is_refused(
    store: EventStore, bad: float
) -> None:
    sample = MetricsSampled(metrics=Metrics(cpu_percent=bad), sampled_at=datetime.now(UTC))

    with pytest.raises(InvalidEventError, match=r"metrics\.cpu_percent"):
        await store.append(HUB, "metrics/a", [sample])

    assert await nothing_written(store)
