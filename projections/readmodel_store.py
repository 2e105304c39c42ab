"""Where read models and their checkpoints live: the interface each backend
implements in ``adapters/`` (one module per backend, importing none other).

A backend stores, per (projection, hub): a checkpoint (the last log
position folded in, and the fingerprint of the fold that built the model),
rows ``(table, key) -> bytes`` (MessagePack of the row Structs; keys sort
bytewise), and snapshots (the encoded head state at a position).

Exactly-once: :meth:`ReadModelStore.commit` writes a batch's rows and moves
the checkpoint in one atomic step (one SQL transaction; one Redis script),
and only if the stored checkpoint is still the one the batch continued from
(see :func:`decide`).  A commit that already happened is recognised by its
position and writes nothing, so retrying after a timeout is safe.
"""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self

import msgspec

from .errors import CheckpointConflict

Range = tuple[str, str, str]
"""``(table, start, stop)``: the keys ``start <= key < stop`` of one table."""
Write = tuple[str, str, bytes | None]
"""``(table, key, data)``: put ``data``, or delete the row when it is None."""


class Checkpoint(msgspec.Struct, frozen=True):
    position: int
    fingerprint: str


class Snapshot(msgspec.Struct, frozen=True):
    position: int
    fingerprint: str
    data: bytes


class Commit(msgspec.Struct, frozen=True, kw_only=True):
    """One batch of a runner: apply ``ranges`` (deletes), then ``writes``
    (at most one per key), move the checkpoint from ``after`` to
    ``position``, and store ``snapshot`` (if any) at ``position``."""

    projection: str
    hub_id: str
    fingerprint: str
    after: int
    position: int
    ranges: tuple[Range, ...] = ()
    writes: tuple[Write, ...] = ()
    snapshot: bytes | None = None


def decide(commit: Commit, stored: int) -> bool:
    """Whether to apply ``commit`` over the stored checkpoint position
    (0 when there is none): True to apply, False when it is already applied.

    Raises: CheckpointConflict when the checkpoint is anywhere else.
    """
    if stored == commit.after:
        return True
    if stored == commit.position:
        return False
    raise CheckpointConflict(commit.projection, commit.hub_id, commit.after, stored)


class ReadModelStore(abc.ABC):
    """Storage of read models, checkpoints and snapshots.

    Every method may raise ``BackendUnavailable`` (retryable) and
    ``StoreClosed`` after :meth:`close`.
    """

    @abc.abstractmethod
    async def checkpoint(self, projection: str, hub_id: str) -> Checkpoint | None:
        """The stored checkpoint, or None when no batch was ever committed."""

    @abc.abstractmethod
    async def commit(self, commit: Commit) -> bool:
        """Apply one batch atomically; False if it was already applied.

        Raises: CheckpointConflict (nothing written) when the checkpoint is
        neither ``commit.after`` nor ``commit.position``.
        """

    @abc.abstractmethod
    async def get(self, projection: str, hub_id: str, table: str, key: str) -> bytes | None: ...

    @abc.abstractmethod
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
        """Rows with ``start <= key < stop``, in key order."""

    @abc.abstractmethod
    async def find(self, projection: str, table: str, key: str) -> list[tuple[str, bytes]]:
        """``(hub_id, data)`` of the rows with this key in every hub."""

    @abc.abstractmethod
    async def tables(self, projection: str, hub_id: str) -> list[str]:
        """The tables that hold at least one row, sorted."""

    @abc.abstractmethod
    async def hubs(self, projection: str) -> list[str]:
        """The hubs with a checkpoint for ``projection``, sorted."""

    @abc.abstractmethod
    async def drop(self, projection: str, hub_id: str) -> None:
        """Remove the read model: rows, checkpoint and snapshots, atomically."""

    @abc.abstractmethod
    async def snapshot(
        self, projection: str, hub_id: str, *, at_or_before: int | None = None
    ) -> Snapshot | None:
        """The latest snapshot at or before a position (any, for None)."""

    async def close(self) -> None:
        """Release what this store opened.  Idempotent."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
