"""The flush loop: take what is buffered, append it in batches, spill what
the backend will not take, drain the spill file when the backend is back.

One pass at a time, and a pass takes everything buffered when it starts, so
when a pass ends every event recorded before it began is settled: that is
the acknowledgement watermark ``acked`` that ``flush()`` waits on.

Order: while the spill file holds anything, new batches are spilled behind
it instead of appended, and the file is drained (in file order) before any
direct append.  So a stream's events reach the log in the order recorded,
across outages and restarts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio

from ..errors import EventStoreError
from ..retry import Retrying, RetryPolicy
from .buffer import Buffer
from .drain import drain
from .receipt import Fate, Receipt, counted
from .spill import SpillBatch, SpillEvent, SpillFile
from .stats import Stats
from .writing import TRANSIENT, append_batch

if TYPE_CHECKING:
    from ..store import EventStore

log = logging.getLogger(__name__)

Batch = tuple[str, str, list[Receipt]]
DRAIN_RETRY = RetryPolicy(initial=0.1, multiplier=2.0, cap=2.0)
"""How soon to try the backend again while the spill file holds anything."""


def split(taken: list[Batch], size: int) -> list[Batch]:
    return [
        (hub, stream, receipts[i : i + size])
        for hub, stream, receipts in taken
        for i in range(0, len(receipts), size)
    ]


class FlushLoop:
    """The recorder's background task (see the module doc)."""

    def __init__(
        self,
        store: EventStore,
        buffer: Buffer,
        stats: Stats,
        *,
        spill: SpillFile | None,
        batch_size: int,
        max_delay: float,
        retry: RetryPolicy,
        on_pass: Callable[[], None] = lambda: None,
    ) -> None:
        self.store, self.buffer, self.stats, self.spill = store, buffer, stats, spill
        self.batch_size, self.max_delay, self.retry = batch_size, max_delay, retry
        self.on_pass = on_pass  # called before each pass (the recorder adds stats events)
        self.acked = 0  # every event with seq <= acked is settled
        self.seq = 0  # the recorder's last seq: set by record()
        self.in_flight: list[Receipt] = []
        self.nonempty = anyio.Event()
        self.urgent = anyio.Event()
        self.passed = anyio.Event()
        self.rejected: list[Receipt] = []
        self._drain_retry = DRAIN_RETRY.start()
        self._drain_at = 0.0

    def retry_drain_now(self) -> None:
        self._drain_at = 0.0

    def wake(self, *, urgent: bool) -> None:
        self.nonempty.set()
        if urgent:
            self.urgent.set()

    async def run(self) -> None:
        while True:
            await self._wait_for_work()
            await self.one_pass()

    async def _wait_for_work(self) -> None:
        spill_waiting = self.spill is not None and not self.spill.empty
        if self.buffer.size == 0 and not self.urgent.is_set():
            timeout = self._drain_at - anyio.current_time() if spill_waiting else None
            with anyio.move_on_after(timeout):
                await self.nonempty.wait()
        self.nonempty = anyio.Event()
        with anyio.move_on_after(self.max_delay):
            await self.urgent.wait()
        self.urgent = anyio.Event()

    async def one_pass(self) -> None:
        """Settle everything buffered now; then wake the waiters."""
        self.on_pass()
        high = self.seq
        taken = self.buffer.take()
        self.in_flight = [r for _, _, receipts in taken for r in receipts]
        batches = split(taken, self.batch_size)
        if not await self._spill_first(batches):
            for index, batch in enumerate(batches):
                if not await self._append(batch):
                    await self._spill(batches[index:])
                    break
        self.in_flight = []
        self.acked = max(self.acked, high)
        self.passed.set()
        self.passed = anyio.Event()

    async def _spill_first(self, batches: list[Batch]) -> bool:
        """True when the spill file still holds batches after trying to
        drain it: then ``batches`` went behind them."""
        if self.spill is None or self.spill.empty:
            return False
        if anyio.current_time() >= self._drain_at and await self._drain():
            return False
        if batches:
            await self._spill(batches)
        return True

    async def _drain(self) -> bool:
        assert self.spill is not None
        try:
            result = await drain(self.store, self.spill)
        except TRANSIENT:
            delay = self._drain_retry.next_delay(anyio.current_time())
            self._drain_at = anyio.current_time() + (delay or DRAIN_RETRY.cap)
            return False
        self._drain_retry.reset()
        for hub, n in result.by_hub.items():
            self.stats.of(hub).drained += n
        for hub, n in result.rejected_by_hub.items():
            self.stats.of(hub).rejected += n
        return True

    async def _append(self, batch: Batch) -> bool:
        """Append with the retry policy; False when it is spent (and a spill
        file can take the batch)."""
        hub, stream, receipts = batch
        retrying = self.retry.start()
        while True:
            try:
                refused = await append_batch(self.store, hub, stream, [r.event for r in receipts])
            except TRANSIENT as exc:
                if not await self._backoff(retrying, exc):
                    return False
                continue
            self._settle(receipts, Fate.APPENDED, refused)
            return True

    async def _backoff(self, retrying: Retrying, exc: EventStoreError) -> bool:
        delay = retrying.next_delay(anyio.current_time())
        if delay is None and self.spill is not None:
            return False
        await anyio.sleep(delay if delay is not None else self.retry.cap)
        return True

    async def _spill(self, batches: list[Batch]) -> None:
        """Write the batches to the spill file, or keep retrying the backend
        when the disk refuses too (nothing is given up while the process lives)."""
        assert self.spill is not None
        framed = [self._framed(b) for b in batches]
        try:
            await anyio.to_thread.run_sync(self.spill.append, [f for f, _ in framed if f])
        except EventStoreError as exc:
            log.error("hublog recorder: cannot spill (%s); retrying the backend instead", exc)
            self._drain_at = anyio.current_time() + 1.0
            for batch in batches:
                while not await self._append(batch):
                    await anyio.sleep(self.retry.cap)
            return
        for (_, bad), (_, _, receipts) in zip(framed, batches, strict=True):
            self._settle(receipts, Fate.SPILLED, bad)

    def _framed(self, batch: Batch) -> tuple[SpillBatch | None, list[tuple[int, str]]]:
        """The batch as a spill record; events the codec refuses are rejected
        now (they could never be appended either)."""
        hub, stream, receipts = batch
        events, bad = [], []
        for index, receipt in enumerate(receipts):
            try:
                encoded = self.store.codec.encode(receipt.event)
            except EventStoreError as exc:
                bad.append((index, f"{type(exc).__name__}: {exc}"))
                continue
            events.append(SpillEvent(encoded.type, encoded.schema_version, encoded.data))
        return (SpillBatch(hub, stream, events) if events else None), bad

    def _settle(self, receipts: list[Receipt], fate: Fate, refused: list[tuple[int, str]]) -> None:
        bad = dict(refused)
        for index, receipt in enumerate(receipts):
            if receipt.fate is not Fate.PENDING:
                continue  # settled already (close() gave up on it while we waited)
            why = bad.get(index)
            if why is None:
                receipt.fate = fate
            else:
                receipt.fate, receipt.reason = Fate.REJECTED, why
                log.error("hublog recorder: the backend refused %r for good: %s", receipt, why)
                if len(self.rejected) < 1000:
                    self.rejected.append(receipt)
            if counted(receipt):
                self.stats.of(receipt.hub_id).settle(receipt.fate)
