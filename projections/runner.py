"""The runner: folds a hub's log into a stored read model, batch by batch,
from its checkpoint, then follows the log live.

Each batch is folded in memory and stored with one :meth:`ReadModelStore.commit`
— its rows and the new checkpoint together — so a runner killed at any
moment restarts from a checkpoint that matches the rows exactly.  Two
runners on the same read model are safe: the commit of the one that falls
behind is refused (CheckpointConflict) and it reloads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import aclosing
from typing import Any

import anyio
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from eventstore.envelope import RecordedEvent
from eventstore.errors import BackendUnavailable
from eventstore.retry import RetryPolicy
from eventstore.store import EventStore

from . import codec
from .errors import CheckpointConflict, InvalidQuery, ProjectionOutdated
from .folding import fold_batch
from .readmodel import Projection, ReadModel
from .readmodel_store import Commit, ReadModelStore
from .tables import META, from_rows

log = logging.getLogger(__name__)

DEFAULT_BATCH = 500
REBUILD_BATCH = 5000
"""A rebuild commits every this many events: each commit of a durable backend
waits for its disk (an fsync on SQLite), and a rebuild has no live reader to
keep waiting, while memory stays bounded by the batch."""
COMMIT_ATTEMPTS = 5
COMMIT_RETRY = RetryPolicy(initial=0.05, multiplier=4, cap=5.0, attempts=COMMIT_ATTEMPTS)
PROJECTION_DEFAULT: Any = object()
"""``snapshot_every``: the projection's own ``snapshot_every``."""


class ProjectionRunner:
    """Runs one projection over one hub's log into a :class:`ReadModelStore`.

    Args:
        batch_size: events folded per commit (at most).
        snapshot_every: also store the state as a snapshot once this many
            positions have passed since the last one (None: never; by
            default the projection's ``snapshot_every``: 1000 for the hub
            projection, which ``state_at`` replays from).
        rebuild_if_outdated: when the stored model was built by another
            fingerprint (version or configuration), drop it and start from 0
            instead of raising ProjectionOutdated.
        on_batch: called with the new position after every commit.

    Raises: InvalidQuery for a batch size or snapshot interval below 1; from
    the methods: ProjectionOutdated, BackendUnavailable (after retries),
    StoreClosed.
    """

    def __init__(
        self,
        store: EventStore,
        storage: ReadModelStore,
        projection: Projection[Any],
        hub_id: str,
        *,
        batch_size: int = DEFAULT_BATCH,
        snapshot_every: int | None = PROJECTION_DEFAULT,
        rebuild_if_outdated: bool = False,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        if snapshot_every is PROJECTION_DEFAULT:
            snapshot_every = projection.snapshot_every
        if batch_size < 1:
            raise InvalidQuery(f"batch_size must be >= 1, got {batch_size!r}")
        if snapshot_every is not None and snapshot_every < 1:
            raise InvalidQuery(f"snapshot_every must be >= 1 or None, got {snapshot_every!r}")
        self.store = store
        self.storage = storage
        self.projection = projection
        self.hub_id = hub_id
        self.batch_size = batch_size
        self.snapshot_every = snapshot_every
        self.rebuild_if_outdated = rebuild_if_outdated
        self.on_batch = on_batch
        self.fingerprint = projection.fingerprint(hub_id)
        self._state: ReadModel | None = None
        self._derived: dict[str, dict[str, Any]] = {}
        self._snapshot_at = 0
        self.position = 0

    @property
    def loaded(self) -> bool:
        """Whether the state has been read back from storage (or folded)."""
        return self._state is not None

    @property
    def state(self) -> ReadModel:
        """The folded state (trimmed: head tables and meta) at :attr:`position`."""
        if self._state is None:
            raise RuntimeError("the runner has not loaded its state yet: call catch_up() or run()")
        return self._state

    async def load(self) -> None:
        """Read the checkpoint and head rows back from storage."""
        name = self.projection.name
        stored = await self.storage.checkpoint(name, self.hub_id)
        if stored is not None and stored.fingerprint != self.fingerprint:
            if not self.rebuild_if_outdated:
                raise ProjectionOutdated(name, self.hub_id, stored.fingerprint, self.fingerprint)
            log.warning(
                "rebuilding %s of hub %s: built as %s", name, self.hub_id, stored.fingerprint
            )
            await self.storage.drop(name, self.hub_id)
            stored = None
        if stored is None:
            state = self.projection.initial()
        else:
            state = await self._stored_state()
        snapshot = await self.storage.snapshot(name, self.hub_id)
        self._snapshot_at = snapshot.position if snapshot is not None else 0
        self._state = state
        self._derived = self.projection.derived(state)
        self.position = state.meta.position if stored is None else stored.position

    async def _stored_state(self) -> ReadModel:
        name, state_type = self.projection.name, self.projection.state_type
        types = codec.row_types(self.projection)
        meta_data = await self.storage.get(name, self.hub_id, META, "")
        meta = None if meta_data is None else codec.decode(meta_data, types[META])
        head = {}
        for table in state_type.HEAD:
            rows = await self.storage.scan(name, self.hub_id, table)
            head[table] = {key: codec.decode(data, types[table]) for key, data in rows}
        return from_rows(state_type, meta, head)

    async def catch_up(self, *, max_events: int | None = None) -> int:
        """Fold everything up to the log's current end (or ``max_events``
        events) and return the checkpoint position."""
        if self._state is None:
            await self.load()
        remaining = max_events
        while remaining is None or remaining > 0:
            limit = self.batch_size if remaining is None else min(self.batch_size, remaining)
            batch = [
                e async for e in self.store.read_log(self.hub_id, after=self.position, limit=limit)
            ]
            if not batch:
                break
            if not await self._process(batch):
                continue  # another writer moved the checkpoint: reloaded, read again
            if len(batch) < limit:
                break  # a short page is the log's end when it was read: no empty read after it
            if remaining is not None:
                remaining -= len(batch)
        return self.position

    async def run(self, *, task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED) -> None:
        """Catch up, report the position to ``task_status``, then follow the
        log live until cancelled or the event store closes."""
        await self.catch_up()
        task_status.started(self.position)
        while await self._follow():
            pass

    async def _follow(self) -> bool:
        """Fold live events in batches of whatever has arrived; True when a
        conflict made the runner reload (follow again from there)."""
        send, receive = anyio.create_memory_object_stream[RecordedEvent](self.batch_size)
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._produce, send, self.position)
            async with receive:
                async for first in receive:
                    if not await self._process(self._drain(first, receive)):
                        tg.cancel_scope.cancel()
                        return True
        return False

    def _drain(
        self, first: RecordedEvent, receive: MemoryObjectReceiveStream[RecordedEvent]
    ) -> list[RecordedEvent]:
        batch = [first]
        while len(batch) < self.batch_size:
            try:
                batch.append(receive.receive_nowait())
            except (anyio.WouldBlock, anyio.EndOfStream):
                break
        return batch

    async def _produce(self, send: MemoryObjectSendStream[RecordedEvent], after: int) -> None:
        async with send, aclosing(self.store.subscribe(self.hub_id, after=after)) as events:
            async for event in events:
                await send.send(event)

    async def _process(self, batch: Sequence[RecordedEvent]) -> bool:
        """Fold and commit one batch; False when another writer had moved the
        checkpoint (the runner has reloaded, the batch is not applied)."""
        folded, derived = fold_batch(self.projection, self.state, batch, self._derived)
        after = folded.state
        position = batch[-1].position
        snapshot = None
        if self.snapshot_every is not None and position - self._snapshot_at >= self.snapshot_every:
            snapshot = codec.encode_state(after)
        commit = Commit(
            projection=self.projection.name,
            hub_id=self.hub_id,
            fingerprint=self.fingerprint,
            after=self.position,
            position=position,
            ranges=tuple(folded.ranges),
            writes=tuple(
                (t, k, None if row is None else codec.encode(row))
                for (t, k), row in folded.writes.items()
            ),
            snapshot=snapshot,
        )
        try:
            await self._commit(commit)
        except CheckpointConflict as conflict:
            log.info("%s; reloading", conflict)
            await self.load()
            return False
        if after.meta.quarantined > self.state.meta.quarantined:
            log.warning(
                "%s of hub %s: %d event(s) quarantined up to position %d (see its quarantine table)",
                self.projection.name,
                self.hub_id,
                after.meta.quarantined - self.state.meta.quarantined,
                position,
            )
        self._state, self._derived, self.position = after, derived, position
        if snapshot is not None:
            self._snapshot_at = position
        if self.on_batch is not None:
            self.on_batch(position)
        return True

    async def _commit(self, commit: Commit) -> None:
        retrying = COMMIT_RETRY.start()
        while True:
            try:
                await self.storage.commit(commit)
                return
            except BackendUnavailable as exc:
                # A commit is idempotent by position, so retrying one whose
                # answer was lost is safe.
                await retrying.wait(exc)


async def rebuild(
    store: EventStore,
    storage: ReadModelStore,
    projection: Projection[Any],
    hub_id: str,
    *,
    batch_size: int = REBUILD_BATCH,
    snapshot_every: int | None = PROJECTION_DEFAULT,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Drop a read model and fold it again from position 0; return the new
    checkpoint.  A runner following the same model at the time reloads on
    its next commit (its checkpoint has moved).

    Raises: BackendUnavailable, StoreClosed.
    """
    await storage.drop(projection.name, hub_id)
    runner = ProjectionRunner(
        store,
        storage,
        projection,
        hub_id,
        batch_size=batch_size,
        snapshot_every=snapshot_every,
        on_batch=on_batch,
    )
    return await runner.catch_up()


async def rebuild_all(
    store: EventStore,
    storage: ReadModelStore,
    projections: Sequence[Projection[Any]],
    hub_id: str,
    *,
    batch_size: int = REBUILD_BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Drop several read models of one hub and fold them again from position
    0 in ONE read of the log: each batch is decoded once and fed to every
    projection's runner (each committing its own rows and checkpoint, as
    :func:`rebuild` does).  Returns the position reached.

    A runner whose commit met another writer's reloads and finishes on its
    own afterwards.

    Raises: BackendUnavailable, StoreClosed.
    """
    runners = []
    for projection in projections:
        await storage.drop(projection.name, hub_id)
        runner = ProjectionRunner(store, storage, projection, hub_id, batch_size=batch_size)
        await runner.load()
        runners.append(runner)
    behind: list[ProjectionRunner] = []
    position = 0
    async with aclosing(store.read_log(hub_id)) as events:
        batch: list[RecordedEvent] = []
        async for event in events:
            batch.append(event)
            if len(batch) == batch_size:
                position = await _feed(runners, behind, batch, on_batch)
                batch = []
        if batch:
            position = await _feed(runners, behind, batch, on_batch)
    for runner in behind:
        position = min(position, await runner.catch_up())
    return position


async def _feed(
    runners: list[ProjectionRunner],
    behind: list[ProjectionRunner],
    batch: list[RecordedEvent],
    on_batch: Callable[[int], None] | None,
) -> int:
    """One batch to every runner still in step; one that fell out of step
    (a conflict made it reload) moves to ``behind``."""
    for runner in list(runners):
        if not await runner._process(batch):
            runners.remove(runner)
            behind.append(runner)
    if on_batch is not None:
        on_batch(batch[-1].position)
    return batch[-1].position
