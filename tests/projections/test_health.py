"""The health history: every check and transition, time in each status."""

from __future__ import annotations

import anyio
import pytest

from eventstore import EventStore
from projections import HealthProjection, ReadModels, ReadModelStore
from tests.projections.script import HUB, S, Script, folded_rows, run, stored_rows

pytestmark = pytest.mark.anyio

HEALTH = HealthProjection()


async def test_every_check_and_transition_with_the_time_spent(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    await script.register("a")
    await anyio.sleep(0.01)  # let the backend's clock move between the events
    await script.check("a", True)
    await script.change("a", S.UNKNOWN, S.HEALTHY)
    await anyio.sleep(0.01)
    await script.check("a", False)
    await script.check("a", False)
    await script.change("a", S.HEALTHY, S.DEGRADED, reason="2 failed checks")
    await anyio.sleep(0.01)
    await script.deregister("a")
    await run(store, storage, HEALTH)

    at = {e.position: e.recorded_at async for e in store.read_log(HUB)}
    transitions = await reader.transitions(HUB, "a")
    assert [(t.from_status, t.to_status, t.position) for t in transitions] == [
        (None, S.UNKNOWN, 1),
        (S.UNKNOWN, S.HEALTHY, 3),
        (S.HEALTHY, S.DEGRADED, 6),
        (S.DEGRADED, S.STOPPED, 7),
    ]
    spent = [
        (at[3] - at[1]).total_seconds(),
        (at[6] - at[3]).total_seconds(),
        (at[7] - at[6]).total_seconds(),
    ]
    assert [t.seconds_in_previous for t in transitions[1:]] == spent
    assert all(s > 0 for s in spent)
    checks = await reader.checks(HUB, "a")
    assert [(c.ok, c.consecutive_failures, c.position) for c in checks] == [
        (True, 0, 2),
        (False, 1, 4),
        (False, 2, 5),
    ]
    head = await reader.health(HUB, "a")
    assert head is not None
    assert head.time_in_status == {"unknown": spent[0], "healthy": spent[1], "degraded": spent[2]}
    assert (
        head.checks,
        head.failed_checks,
        head.transitions,
        head.registered,
        head.status_since,
    ) == (3, 2, 4, False, None)
    assert await stored_rows(storage, HEALTH) == await folded_rows(store, HEALTH)


async def test_instances_keep_their_own_histories(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    await script.healthy("a")
    await script.healthy("a/b")  # a prefix of another id must not mix rows
    await script.check("a/b", False)
    await run(store, storage, HEALTH)

    assert [c.ok for c in await reader.checks(HUB, "a")] == [True]
    assert [c.ok for c in await reader.checks(HUB, "a/b")] == [True, False]


async def test_health_events_of_unknown_instances_and_wrong_transitions_are_anomalies(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    await script.check("ghost", False)
    await script.register("a")
    await script.change("a", S.HEALTHY, S.DEGRADED)
    await run(store, storage, HEALTH)

    assert [a.kind for a in await reader.anomalies(HEALTH, HUB)] == [
        "event_for_unregistered_instance",
        "transition_from_mismatch",
    ]
    head = await reader.health(HUB, "a")
    assert head is not None and head.status == S.DEGRADED
    assert await reader.health(HUB, "ghost") is None
