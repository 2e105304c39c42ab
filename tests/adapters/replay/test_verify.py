"""``verify``: a log is what the store contract promises.  A clean log has no
findings; samples removed by retention are not corruption; lost positions,
missing versions and damaged payloads are errors, an unknown type a warning;
stored read models are compared with a rebuild."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from adapters.memory import MemoryEventStore, MemoryReadModelStore
from adapters.replay.demo import run_demo
from adapters.replay.errors import InvalidInput
from adapters.replay.jsonl import RAW_CODEC
from adapters.replay.rebuild import choose, rebuild_one
from adapters.replay.verify import ERROR, WARNING, Finding, verify_hub, verify_projections
from eventstore import Event, EventStore, HubStarted, Metrics, MetricsSampled, ResourceType
from projections import RetentionPolicy
from projections.deciders.retention import retain
from tests.adapters.replay.logs import (
    DAMAGED,
    DEMO_HEAD,
    DEMO_HUB,
    DEMO_MINUTES,
    UNKNOWN,
    Clock,
    raw_copy,
    stored,
)
from tests.eventstore.contract.factories import T0, checked, registered, sampled
from tests.projections.script import HUB, Script

pytestmark = pytest.mark.anyio

STARTED = HubStarted(resource_type=ResourceType.OLLAMA)


def raw_memory() -> MemoryEventStore:
    """A memory log read raw, as verify reads (written with import_events)."""
    return MemoryEventStore(codec=RAW_CODEC, clock=Clock())


async def test_the_demo_log_is_clean() -> None:
    raw = raw_memory()
    await run_demo(raw, minutes=DEMO_MINUTES)

    assert await verify_hub(raw, DEMO_HUB) == (DEMO_HEAD, [])


async def test_an_unknown_type_is_a_warning_and_a_damaged_payload_an_error() -> None:
    raw = raw_memory()
    await raw.import_events(
        HUB,
        [
            stored(1, "hub", 1, STARTED),
            stored(2, "instance/a", 1, registered("a")),
            stored(3, "hub", 2, UNKNOWN),
            stored(4, "instance/a", 2, DAMAGED),
            stored(5, "hub", 3, ("Gadget", b"\xc1")),
        ],
    )

    count, findings = await verify_hub(raw, HUB)

    assert count == 5
    assert [(f.severity, f.position, f.stream) for f in findings] == [
        (WARNING, 3, "hub"),
        (ERROR, 4, "instance/a"),
        (ERROR, 5, "hub"),
    ]
    assert findings[0].problem == "event type QuotaChanged unknown to this hublog (kept as is)"
    assert findings[1].problem.startswith("HealthChecked payload does not decode: ")
    assert findings[2].problem == "unknown type Gadget with a payload that is not MessagePack"


@pytest.mark.parametrize(("last", "lost"), [(4, "3..3"), (5, "3..4")])
async def test_positions_lost_where_no_stream_misses_a_version_are_an_error(
    last: int, lost: str
) -> None:
    raw = raw_memory()
    await raw.import_events(
        HUB,
        [
            stored(1, "hub", 1, STARTED),
            stored(2, "instance/a", 1, registered("a")),
            stored(last, "instance/a", 2, checked()),  # versions contiguous: no sample removed
        ],
    )

    assert await verify_hub(raw, HUB) == (
        3,
        [
            Finding(
                ERROR,
                HUB,
                3,
                None,
                f"{last - 3} position(s) missing (first {lost}) but only 0 stream version(s): "
                "positions lost that retention did not remove",
            )
        ],
    )


@pytest.mark.parametrize(
    ("stream", "event"),
    [("instance/a", checked), ("metrics/a", sampled)],
    ids=["instance", "metrics"],
)
async def test_a_missing_version_no_rollup_covers_is_an_error(
    stream: str, event: Callable[[], Event]
) -> None:
    raw = raw_memory()
    await raw.import_events(HUB, [stored(1, stream, 1, event()), stored(2, stream, 3, event())])

    assert await verify_hub(raw, HUB) == (
        2,
        [
            Finding(
                ERROR,
                HUB,
                None,
                stream,
                "1 version(s) missing, e.g. 2, not removed by retention "
                "(no MetricsRolledUp covers them)",
            )
        ],
    )


@pytest.fixture
async def retained_raw(
    request: pytest.FixtureRequest, store: MemoryEventStore, clock: Clock
) -> MemoryEventStore:
    """ollama-1 healthy, then ``samples`` samples every 30 s from T0 (appended
    a half hour at a time), and at T0 + 12 h retention keeping raw samples an
    hour, which must have removed ``removed``; the log read raw."""
    samples, removed = request.param
    script = Script(store)
    await script.started()
    await script.healthy("ollama-1")
    times = [T0 + timedelta(seconds=30 * i) for i in range(samples)]
    for first in range(0, samples, 60):
        batch = [
            MetricsSampled(
                metrics=Metrics(request_count=i, cpu_percent=float(i % 100)), sampled_at=times[i]
            )
            for i in range(first, min(first + 60, samples))
        ]
        clock.now = batch[-1].sampled_at
        await store.append(HUB, "metrics/ollama-1", batch)
    clock.at(12 * 3600)
    report = await retain(store, MemoryReadModelStore(), HUB, policy=RetentionPolicy(raw_s=3600))
    assert report.samples_removed == removed
    return await raw_copy(store)


@pytest.mark.parametrize("retained_raw", [(200, 120)], indirect=True)  # 100 min: the 1st hour's
async def test_a_log_after_retention_is_not_reported_as_corrupt(
    retained_raw: MemoryEventStore,
) -> None:
    assert await verify_hub(retained_raw, HUB) == (await retained_raw.head(HUB) - 120, [])


@pytest.mark.parametrize("retained_raw", [(1100, 1080)], indirect=True)  # 9 h 10 min: 9 hours'
async def test_a_log_after_retention_removed_over_1000_samples_is_not_reported_as_corrupt(
    retained_raw: MemoryEventStore,
) -> None:
    assert await verify_hub(retained_raw, HUB) == (await retained_raw.head(HUB) - 1080, [])


def test_a_finding_reads_as_one_line_and_as_json() -> None:
    finding = Finding(ERROR, HUB, 7, "instance/a", "version 2 not above 3")
    general = Finding(WARNING, HUB, None, None, "no stored read model 'hub'")

    assert (
        finding.line()
        == "error   hub ollama-pool position 7 stream instance/a: version 2 not above 3"
    )
    assert general.line() == "warning hub ollama-pool: no stored read model 'hub'"
    assert finding.as_json() == {
        "severity": "error",
        "hub_id": HUB,
        "position": 7,
        "stream": "instance/a",
        "problem": "version 2 not above 3",
    }


# --- read models ---------------------------------------------------------------


async def rebuilt(store: EventStore, storage: MemoryReadModelStore) -> list[str]:
    progress = [await rebuild_one(store, storage, p, HUB, lambda _: None) for p in choose([])]
    return [f"{p.projection} {p.position}/{p.head}" for p in progress]


async def test_read_models_that_match_a_rebuild_have_no_findings(script: Script) -> None:
    await script.healthy("a")
    storage = MemoryReadModelStore()

    assert await rebuilt(script.store, storage) == ["hub 3/3", "health 3/3", "metrics 3/3"]
    assert await verify_projections(script.store, storage, HUB) == []


async def test_read_models_missing_or_behind_are_warnings(script: Script) -> None:
    await script.healthy("a")
    storage = MemoryReadModelStore()
    missing = await verify_projections(script.store, storage, HUB)
    await rebuilt(script.store, storage)
    await script.check("a", True)

    behind = await verify_projections(script.store, storage, HUB)

    assert [f.line() for f in missing] == [
        f"warning hub {HUB}: no stored read model {name!r} to compare (hublog rebuild builds it)"
        for name in ("hub", "health", "metrics")
    ]
    assert [f.line() for f in behind] == [
        f"warning hub {HUB}: read model {name!r} is at position 3, the log at 4"
        for name in ("hub", "health", "metrics")
    ]


async def test_read_models_that_differ_from_a_rebuild_are_errors(script: Script) -> None:
    await script.healthy("a")
    storage = MemoryReadModelStore()
    await rebuilt(script.store, storage)
    other = Script(MemoryEventStore(clock=Clock()))  # as long a log, another story
    await other.register("a")
    await other.check("a", False)
    await other.check("a", False)

    findings = await verify_projections(other.store, storage, HUB)

    assert [(f.severity, f.problem.split(" row ")[0]) for f in findings] == [
        (ERROR, "read model 'hub': table 'instances'"),
        (ERROR, "read model 'health': table 'checks'"),
    ]
    assert (
        findings[0].problem == "read model 'hub': table 'instances' row 'a' differs from a rebuild"
    )


def test_an_unknown_projection_is_refused_naming_the_known() -> None:
    with pytest.raises(InvalidInput) as raised:
        choose(["hub", "locks", "zz"])

    assert str(raised.value) == "unknown projection(s) locks, zz; known: hub, health, metrics"
    assert [p.name for p in choose(["metrics", "hub"])] == ["metrics", "hub"]
