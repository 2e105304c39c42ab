"""Read models in memory: the reference storage, for tests and ``memory://``.

A commit runs without awaiting between its check and its writes, so it is
atomic on the event loop; it is idempotent by position (see ``decide``).
Rows are kept encoded, as every other backend keeps them, so nothing a
caller holds can alias stored state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio

from eventstore.errors import StoreClosed
from projections.storage import Checkpoint, Commit, ReadModelStore, Snapshot, decide
from projections.tables import Tables


@dataclass
class _Model:
    checkpoint: Checkpoint | None = None
    rows: Tables = field(default_factory=Tables)
    snapshots: dict[int, Snapshot] = field(default_factory=dict)


class MemoryReadModelStore(ReadModelStore):
    """Read models in a dict.  Two instances share nothing."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, str], _Model] = {}
        self._closed = False

    def _model(self, projection: str, hub_id: str) -> _Model:
        if self._closed:
            raise StoreClosed("MemoryReadModelStore is closed")
        return self._models.get((projection, hub_id)) or _Model()

    async def checkpoint(self, projection: str, hub_id: str) -> Checkpoint | None:
        await anyio.lowlevel.checkpoint()
        return self._model(projection, hub_id).checkpoint

    async def commit(self, commit: Commit) -> bool:
        await anyio.lowlevel.checkpoint()  # a commit is a suspension point on every backend
        model = self._model(commit.projection, commit.hub_id)
        stored = model.checkpoint.position if model.checkpoint is not None else 0
        if not decide(commit, stored):
            return False
        model.rows.write(commit.ranges, {(t, k): data for t, k, data in commit.writes})
        model.checkpoint = Checkpoint(commit.position, commit.fingerprint)
        if commit.snapshot is not None:
            model.snapshots[commit.position] = Snapshot(
                commit.position, commit.fingerprint, commit.snapshot
            )
        self._models[(commit.projection, commit.hub_id)] = model
        return True

    async def get(self, projection: str, hub_id: str, table: str, key: str) -> bytes | None:
        await anyio.lowlevel.checkpoint()
        return self._model(projection, hub_id).rows.get(table, key)

    async def scan(
        self,
        projection: str,
        hub_id: str,
        table: str,
        *,
        start: str | None = None,
        stop: str | None = None,
        limit: int | None = None,
    ) -> list[tuple[str, bytes]]:
        await anyio.lowlevel.checkpoint()
        found = self._model(projection, hub_id).rows.scan(table, start, stop)
        return found if limit is None else found[:limit]

    async def find(self, projection: str, table: str, key: str) -> list[tuple[str, bytes]]:
        await anyio.lowlevel.checkpoint()
        found = []
        for (name, hub_id), model in sorted(self._models.items()):
            data = model.rows.get(table, key) if name == projection else None
            if data is not None:
                found.append((hub_id, data))
        return found

    async def tables(self, projection: str, hub_id: str) -> list[str]:
        await anyio.lowlevel.checkpoint()
        return self._model(projection, hub_id).rows.table_names()

    async def hubs(self, projection: str) -> list[str]:
        await anyio.lowlevel.checkpoint()
        return sorted(
            h for (name, h), m in self._models.items() if name == projection and m.checkpoint
        )

    async def drop(self, projection: str, hub_id: str) -> None:
        await anyio.lowlevel.checkpoint()
        self._model(projection, hub_id)  # refuses when closed
        self._models.pop((projection, hub_id), None)

    async def snapshot(
        self, projection: str, hub_id: str, *, at_or_before: int | None = None
    ) -> Snapshot | None:
        await anyio.lowlevel.checkpoint()
        snapshots = self._model(projection, hub_id).snapshots
        usable = [p for p in snapshots if at_or_before is None or p <= at_or_before]
        return snapshots[max(usable)] if usable else None

    async def close(self) -> None:
        self._closed = True
