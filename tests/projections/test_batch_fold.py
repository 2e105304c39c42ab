"""A batch fold (``fold_batch``, here through :class:`Folder`) equals ``apply``
one event at a time, also where the batch path takes its shortcuts: the
position and clock advanced once per run of events, ticks only when the
clock's minute changes, and history rows that expire inside the batch that
moved them out of the state.  Pure folds: no store, no service."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from eventstore import (
    Event,
    HealthChecked,
    InstanceDeregistered,
    InstanceRegistered,
    LockGranted,
    Metrics,
    MetricsSampled,
    ResourceType,
)
from eventstore.envelope import RecordedEvent
from projections import Folder, RetentionPolicy, fold, rows, standard_projections

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
# Windows of minutes, so that rows expire within one batch of a 3-hour log.
POLICY = RetentionPolicy(raw_s=300, minute_s=900, hour_s=2 * 3600)


def a_log(seed: int) -> list[RecordedEvent]:
    """Three instances sampled and checked for three hours, with what the
    shortcuts must survive: a clock standing still or jumping, a sample time
    not increasing, a re-registration, events of an unfolded category, and
    times in another time zone."""
    rng = random.Random(seed)
    versions: dict[str, int] = {}
    log: list[RecordedEvent] = []
    clock = T0

    def add(stream: str, event: Event, at: datetime) -> None:
        versions[stream] = versions.get(stream, 0) + 1
        log.append(RecordedEvent(
            hub_id="pool", stream=stream, version=versions[stream], position=len(log) + 1,
            event_id=uuid.uuid4(), type=type(event).__name__, schema_version=1,
            recorded_at=at, event=event,
        ))  # fmt: skip

    def registered(name: str) -> InstanceRegistered:
        return InstanceRegistered(
            name=name, resource_type=ResourceType.OLLAMA, endpoint=f"http://{name}:11434"
        )

    for i in range(3):
        add(f"instance/i{i}", registered(f"i{i}"), clock)
    for n in range(1500):
        clock += timedelta(seconds=rng.choice([0, 1, 7, 7, 7, 30, 400]))
        iid = f"i{n % 3}"
        at = clock if rng.random() > 0.1 else clock - timedelta(seconds=50)  # clock stands still
        if rng.random() < 0.05:
            at = at.astimezone(timezone(timedelta(hours=2)))
        roll = rng.random()
        if roll < 0.5:
            sampled = clock - timedelta(seconds=rng.choice([0, 0, 0, 3, 120]))
            metrics = Metrics(cpu_percent=rng.random() * 90, request_count=n, error_count=n // 9)
            add(f"metrics/{iid}", MetricsSampled(metrics=metrics, sampled_at=sampled), at)
        elif roll < 0.85:
            check = HealthChecked(ok=rng.random() > 0.1, checked_at=clock, latency_ms=5.0)
            add(f"instance/{iid}", check, at)
        elif roll < 0.95:
            grant = LockGranted(
                owner="node",
                token=n,
                capacity=1,
                expires_at=clock + timedelta(seconds=30),
                ttl_s=30,
            )
            add("lock/gpu", grant, at)
        else:
            add(f"instance/{iid}", InstanceDeregistered(), at)
            add(f"instance/{iid}", registered(iid), at)
    return log


@pytest.mark.parametrize("every", [1, 7, 64, 65, 500, 10_000])
@pytest.mark.parametrize("seed", [1, 2])
def test_a_batch_fold_holds_what_the_fold_one_event_at_a_time_holds(every: int, seed: int) -> None:
    log = a_log(seed)
    for projection in standard_projections(POLICY):
        folder = Folder(projection, every=every)
        for event in log:
            folder.add(event)
        folder.flush()
        assert folder.tables.as_dict() == rows(projection, fold(projection, log)), projection.name


def test_rows_drained_earlier_in_a_batch_expire_with_it() -> None:
    """One batch of the whole log: raw samples from its first hour were moved
    out of the state long before they expired, and must not be written."""
    log = a_log(3)
    metrics = standard_projections(POLICY)[2]
    folder = Folder(metrics, every=len(log))
    for event in log:
        folder.add(event)
    folder.flush()
    samples = folder.tables.as_dict().get("samples", {})
    first_hour = [k for k, row in samples.items() if row.sampled_at < T0 + timedelta(hours=1)]
    assert samples and not first_hour
