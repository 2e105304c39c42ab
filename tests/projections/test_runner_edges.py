"""The runner at its edges: snapshot intervals, fingerprints that name the
hub, rows a fold deletes, commits the backend drops, a checkpoint another
writer moves, outdated models, and what it logs."""

# msgspec copies empty-collection defaults per instance; ruff cannot see that
# through a ReadModel subclass.
# ruff: noqa: RUF012

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import pytest
from msgspec.structs import replace

from eventstore import (
    BackendUnavailable,
    Codec,
    Event,
    EventStore,
    HealthChecked,
    InstanceDeregistered,
    InstanceRegistered,
    streams,
)
from eventstore.envelope import RecordedEvent
from eventstore.retry import RetryPolicy
from projections import (
    Checkpoint,
    Commit,
    HealthProjection,
    MetricsProjection,
    Projection,
    ProjectionOutdated,
    ProjectionRunner,
    ReadModel,
    ReadModelStore,
    RetentionPolicy,
    Snapshot,
    fold,
    rebuild,
    rows,
)
from projections import runner as runner_module
from tests.deadlines import within
from tests.projections.script import HUB, Script, folded_rows, run, stored_rows

pytestmark = pytest.mark.anyio

LOGGER = "projections.runner"


class Member(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    checks: int = 0


class RosterModel(ReadModel, frozen=True, kw_only=True):
    HEAD = ("members",)

    members: dict[str, Member] = {}


class Roster(Projection[RosterModel]):
    """Registered instances and how many checks each had: a head table whose
    rows a deregistration deletes, and a count that shows an event folded
    twice or skipped.  Its fingerprint names the hub it was built for."""

    name = "roster"
    state_type = RosterModel
    categories = frozenset({"instance"})
    snapshot_every = 4
    clock_resolution = None

    def fingerprint(self, hub_id: str) -> str:
        return f"roster:v1@{hub_id}"

    def evolve(self, state: RosterModel, event: RecordedEvent) -> RosterModel:
        iid, e = streams.entity_of(event.stream) or "", event.event
        members = dict(state.members)
        if isinstance(e, InstanceRegistered):
            members[iid] = Member(name=e.name)
        elif isinstance(e, InstanceDeregistered):
            del members[iid]
        elif isinstance(e, HealthChecked) and iid in members:
            members[iid] = replace(members[iid], checks=members[iid].checks + 1)
        else:
            return state
        return replace(state, members=members)


class RumourSpread(Event, frozen=True, kw_only=True):
    """A type only a newer writer knows: the runners here quarantine it."""

    category = "instance"


Hook = Callable[[Commit], Awaitable[None]]


class Witness(ReadModelStore):
    """The test's storage, with every commit attempt recorded as
    ``(projection, after, position)`` and ``before`` awaited ahead of each:
    what another writer or a dropped connection does at that moment."""

    def __init__(self, inner: ReadModelStore, before: Hook | None = None) -> None:
        self.inner = inner
        self.before = before
        self.attempts: list[tuple[str, int, int]] = []

    async def commit(self, commit: Commit) -> bool:
        self.attempts.append((commit.projection, commit.after, commit.position))
        if self.before is not None:
            await self.before(commit)
        return await self.inner.commit(commit)

    async def checkpoint(self, projection: str, hub_id: str) -> Checkpoint | None:
        return await self.inner.checkpoint(projection, hub_id)

    async def get(self, projection: str, hub_id: str, table: str, key: str) -> bytes | None:
        return await self.inner.get(projection, hub_id, table, key)

    async def scan(self, projection: str, hub_id: str, table: str, **kw: Any) -> Any:
        return await self.inner.scan(projection, hub_id, table, **kw)

    async def find(self, projection: str, table: str, key: str) -> list[tuple[str, bytes]]:
        return await self.inner.find(projection, table, key)

    async def tables(self, projection: str, hub_id: str) -> list[str]:
        return await self.inner.tables(projection, hub_id)

    async def hubs(self, projection: str) -> list[str]:
        return await self.inner.hubs(projection)

    async def drop(self, projection: str, hub_id: str) -> None:
        await self.inner.drop(projection, hub_id)

    async def snapshot(self, projection: str, hub_id: str, **kw: Any) -> Snapshot | None:
        return await self.inner.snapshot(projection, hub_id, **kw)


def rival(
    store: EventStore, storage: ReadModelStore, projection: Projection, at: int, by: int
) -> Hook:
    """Once, just before ``projection``'s commit that continues from ``at``:
    another runner folds ``by`` events past that checkpoint and commits them."""
    pending = [True]

    async def hook(commit: Commit) -> None:
        if pending and commit.projection == projection.name and commit.after == at:
            pending.clear()
            await ProjectionRunner(store, storage, projection, HUB).catch_up(max_events=by)

    return hook


async def checked(store: EventStore, checks: int) -> int:
    """Instance ``a`` registered, then checked ``checks`` times; the head."""
    script = Script(store)
    await script.register("a")
    for _ in range(checks):
        await script.check("a", True)
    return await store.head(HUB)


async def snapshot_positions(
    storage: ReadModelStore, projection: Projection, head: int
) -> list[int]:
    """Where the stored snapshots are (the latest at or before each position)."""
    found = set()
    for position in range(1, head + 1):
        snapshot = await storage.snapshot(projection.name, HUB, at_or_before=position)
        if snapshot is not None:
            found.add(snapshot.position)
    return sorted(found)


def messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == level]


async def test_a_runner_not_yet_started_is_at_position_zero_and_has_no_state(
    store: EventStore, storage: ReadModelStore
) -> None:
    runner = ProjectionRunner(store, storage, Roster(), HUB)
    assert runner.position == 0
    with pytest.raises(
        RuntimeError, match=r"not loaded its state yet: call catch_up\(\) or run\(\)"
    ):
        runner.state  # noqa: B018 - the property is what raises
    with within("catching up with an empty log"):
        assert await runner.catch_up() == 0


async def test_a_snapshot_is_stored_whenever_snapshot_every_positions_have_passed(
    store: EventStore, storage: ReadModelStore
) -> None:
    head = await checked(store, 11)
    await run(store, storage, Roster(), batch_size=1, snapshot_every=5)
    assert await snapshot_positions(storage, Roster(), head) == [5, 10]


async def test_a_restarted_runner_counts_the_interval_from_the_stored_snapshot(
    store: EventStore, storage: ReadModelStore
) -> None:
    head = await checked(store, 11)
    first = ProjectionRunner(store, storage, Roster(), HUB, batch_size=1, snapshot_every=5)
    with within("catching up with 7 events"):
        await first.catch_up(max_events=7)
    await run(store, storage, Roster(), batch_size=1, snapshot_every=5)
    assert await snapshot_positions(storage, Roster(), head) == [5, 10]


async def test_the_projections_own_interval_is_the_default_and_names_the_hub(
    store: EventStore, storage: ReadModelStore
) -> None:
    head = await checked(store, 11)
    await run(store, storage, Roster(), batch_size=1)
    assert await snapshot_positions(storage, Roster(), head) == [4, 8, 12]
    assert await storage.checkpoint("roster", HUB) == Checkpoint(12, "roster:v1@ollama-pool")
    snapshot = await storage.snapshot("roster", HUB)
    assert snapshot is not None and snapshot.fingerprint == "roster:v1@ollama-pool"


async def test_rebuild_commits_in_its_batch_size_and_snapshots_at_its_own_interval(
    store: EventStore, storage: ReadModelStore
) -> None:
    head = await checked(store, 11)
    await run(store, storage, Roster(), batch_size=1)  # snapshots at 4, 8, 12: dropped
    seen: list[int] = []
    with within("rebuilding the roster"):
        reached = await rebuild(
            store, storage, Roster(), HUB, batch_size=2, snapshot_every=6, on_batch=seen.append
        )
    assert reached == head
    assert seen == [2, 4, 6, 8, 10, 12]
    assert await snapshot_positions(storage, Roster(), head) == [6, 12]


async def test_a_row_the_fold_removes_from_a_head_table_is_deleted_from_storage(
    store: EventStore, storage: ReadModelStore
) -> None:
    script = Script(store)
    await script.register("a")
    await script.register("b")
    await script.check("a", True)
    await script.deregister("a")  # in the batch after the one that stored a's row
    await script.check("b", True)
    await run(store, storage, Roster(), batch_size=3)
    stored = await stored_rows(storage, Roster())
    assert stored["members"] == {"b": Member(name="b", checks=1)}
    assert stored == await folded_rows(store, Roster())


async def test_a_commit_the_backend_dropped_once_is_tried_again(
    store: EventStore, storage: ReadModelStore
) -> None:
    head = await checked(store, 4)
    dropped = [BackendUnavailable("connection reset")]

    async def drop_once(commit: Commit) -> None:
        if dropped:
            raise dropped.pop()

    witness = Witness(storage, drop_once)
    assert await run(store, witness, Roster()) == head
    assert witness.attempts == [("roster", 0, head), ("roster", 0, head)]
    assert await stored_rows(storage, Roster()) == await folded_rows(store, Roster())


async def test_a_commit_failing_every_attempt_raises_the_backends_own_error(
    store: EventStore, storage: ReadModelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the same attempts without the real policy's seconds of backoff
    monkeypatch.setattr(runner_module, "COMMIT_RETRY", RetryPolicy(initial=0, attempts=3))
    head = await checked(store, 2)
    error = BackendUnavailable("no route to host")

    async def unreachable(commit: Commit) -> None:
        raise error

    witness = Witness(storage, unreachable)
    with pytest.raises(BackendUnavailable) as raised:
        await run(store, witness, Roster())
    assert raised.value is error
    assert witness.attempts == [("roster", 0, head)] * 3
    assert await storage.checkpoint("roster", HUB) is None


async def test_each_batch_that_quarantines_says_how_many_and_up_to_where(
    store: EventStore, storage: ReadModelStore, caplog: pytest.LogCaptureFixture
) -> None:
    script = Script(store)
    reader_codec, writer_codec = store.codec, Codec(types=[RumourSpread])
    await script.register("a")
    for _ in range(2):
        store.codec = writer_codec
        await script.append("instance/a", RumourSpread())
        store.codec = reader_codec
        await script.check("a", True)
    caplog.set_level(logging.INFO, logger=LOGGER)
    await run(store, storage, HealthProjection(), batch_size=2)  # [1, 2] [3, 4] [5]
    assert messages(caplog, logging.WARNING) == [
        f"health of hub {HUB}: 1 event(s) quarantined up to position {p} (see its quarantine table)"
        for p in (2, 4)
    ]


async def test_a_runner_whose_checkpoint_moved_reloads_and_counts_only_what_it_stored(
    store: EventStore, storage: ReadModelStore, caplog: pytest.LogCaptureFixture
) -> None:
    await checked(store, 9)
    health = HealthProjection()
    one = ProjectionRunner(store, storage, health, HUB, batch_size=2)
    with within("two runners taking turns"):
        await one.catch_up(max_events=2)
        await ProjectionRunner(store, storage, health, HUB).catch_up(max_events=3)
        caplog.set_level(logging.INFO, logger=LOGGER)
        # the refused batch is not one of the 2 events asked for
        assert await one.catch_up(max_events=2) == 7
    assert messages(caplog, logging.INFO) == [
        f"Checkpoint moved: 5 (Projection: health, Hub: {HUB}, Expected: 2, Actual: 5); reloading"
    ]
    events = [e async for e in store.read_log(HUB, limit=7)]
    assert await stored_rows(storage, health) == rows(health, fold(health, events))


async def test_an_outdated_model_is_refused_by_name_or_rebuilt_with_a_warning(
    store: EventStore, storage: ReadModelStore, caplog: pytest.LogCaptureFixture
) -> None:
    await checked(store, 3)
    old, current = MetricsProjection(RetentionPolicy(raw_s=600)), MetricsProjection()
    built, builds = old.fingerprint(HUB), current.fingerprint(HUB)
    await run(store, storage, old)
    with pytest.raises(ProjectionOutdated) as refused:
        await run(store, storage, current)
    error = refused.value
    assert (error.projection, error.hub_id, error.stored, error.current) == (
        "metrics", HUB, built, builds
    )  # fmt: skip
    assert str(error) == (
        f"read model 'metrics' of hub '{HUB}' was built as '{built}', "
        f"this code builds '{builds}': rebuild it"
    )
    caplog.set_level(logging.INFO, logger=LOGGER)
    await run(store, storage, current, rebuild_if_outdated=True)
    assert messages(caplog, logging.WARNING) == [
        f"rebuilding metrics of hub {HUB}: built as {built}"
    ]
    assert await stored_rows(storage, current) == await folded_rows(store, current)


async def test_a_model_continues_from_its_checkpoint_even_with_no_meta_row_stored(
    store: EventStore, storage: ReadModelStore
) -> None:
    # another writer of the storage contract moved the checkpoint to 3
    # without storing any row: the fold goes on from there, not from 0
    head = await checked(store, 5)
    health = HealthProjection()
    await storage.commit(
        Commit(
            projection="health",
            hub_id=HUB,
            fingerprint=health.fingerprint(HUB),
            after=0,
            position=3,
        )
    )
    assert await run(store, storage, health, batch_size=3) == head
    events = [e async for e in store.read_log(HUB, after=3)]
    assert await stored_rows(storage, health) == rows(health, fold(health, events))
