"""``Recorder``: the hub's hot path appends through a buffer, never the backend.

``record()`` is synchronous: it checks the names once per stream, puts the
event in the bounded buffer (see :mod:`.buffer` for the overload rules) and
returns a :class:`Receipt`; it never awaits and never touches the backend.
A background task (:mod:`.flush`) appends in batches by size or time,
retrying with the one backoff policy, spilling to a local file
(:mod:`.spill`) while the backend stays unreachable.

*Acknowledged* means: ``flush()`` — or ``await receipt`` — has returned for
the event and its fate is APPENDED (in the backend) or SPILLED (fsynced in
the spill file, appended when the backend returns, also after a crash and
restart).  Nothing acknowledged is lost.  Coalesced and dropped samples are
settled too, but not written: they are counted in ``stats`` and in the
``RecorderStats`` events the recorder appends to each hub's ``hub`` stream.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from uuid import uuid4

import anyio

from .. import streams
from ..errors import EventStoreError, InvalidEventError
from ..events import Event, MetricsSampled
from ..retry import RetryPolicy
from ..store import EventStore
from .buffer import Buffer
from .errors import RecorderError
from .flush import FlushLoop
from .receipt import Fate, Receipt, counted
from .spill import Damage, SpillBatch, SpillEvent, SpillFile
from .stats import Stats

log = logging.getLogger(__name__)

MAX_BUFFER = 10_000
BATCH_SIZE = 500
MAX_DELAY = 0.5
SPILL_AFTER = 2.0
STATS_INTERVAL = 60.0
CLOSE_TIMEOUT = 10.0


@dataclass
class CloseReport:
    """What ``close()`` achieved: ``unwritten`` lists every event it could
    neither append nor spill (empty when nothing was lost)."""

    appended: int
    spilled: int
    unwritten: list[Receipt] = field(default_factory=list)

    def __bool__(self) -> bool:
        return not self.unwritten


class Recorder:
    """Buffered, batched, spilling appends to ``store`` (see the module doc).

    Args:
        max_buffer: events held in memory; samples may use 90 % of it.
        batch_size: events per append.
        max_delay: seconds an event waits for its batch to fill.
        spill_dir: where the spill file ``<name>.spill`` lives; None: no
            spill, events wait in the buffer while the backend is down.
        name: the spill file's name and the ``recorder`` of stats events;
            two recorders (two processes) need two names or two directories.
        spill_after: seconds of failed retries before a batch is spilled.
        stats_interval: seconds between ``RecorderStats`` events (only
            while the counts changed).
        close_timeout: how long ``close()`` tries to write what is pending.

    Raises (constructor): ValueError for impossible sizes.
    """

    def __init__(
        self,
        store: EventStore,
        *,
        max_buffer: int = MAX_BUFFER,
        batch_size: int = BATCH_SIZE,
        max_delay: float = MAX_DELAY,
        spill_dir: str | Path | None = None,
        name: str = "recorder",
        spill_after: float = SPILL_AFTER,
        stats_interval: float = STATS_INTERVAL,
        close_timeout: float = CLOSE_TIMEOUT,
    ) -> None:
        if batch_size < 1 or max_delay < 0:
            raise ValueError(
                f"batch_size must be >= 1 and max_delay >= 0: {batch_size}, {max_delay}"
            )
        self.store = store
        self.name = name
        self.run_id = f"{name}/{uuid4().hex[:12]}"
        self.spill_path = Path(spill_dir) / f"{name}.spill" if spill_dir is not None else None
        self.stats = Stats()
        self.damage: Damage | None = None
        self.stats_interval = stats_interval
        self.close_timeout = close_timeout
        self.started_at = datetime.now(UTC)
        self._buffer = Buffer(max_buffer)
        deadline = spill_after if spill_dir is not None else None
        retry = RetryPolicy(initial=0.05, cap=1.0, deadline=deadline)
        self._loop = FlushLoop(
            store, self._buffer, self.stats, spill=None, batch_size=batch_size,
            max_delay=max_delay, retry=retry, on_pass=self._maybe_stats,
        )  # fmt: skip
        self._batch_size = batch_size
        self._checked: set[tuple[str, str, type]] = set()
        self._closing = False
        self._running = False
        self._stopped = anyio.Event()
        self._scope: anyio.CancelScope | None = None
        self._next_stats = 0.0
        self._tg: Any = None

    # --- the hot path ---------------------------------------------------------------

    def record(self, hub_id: str, stream: str, event: Event, *, durable: bool = False) -> Receipt:
        """Take ``event`` for ``stream`` of ``hub_id``; never blocks, never awaits.

        The receipt is false when the event was refused (a lifecycle event,
        the buffer full or the recorder closing: the caller's to retry) or
        dropped (a sample, counted).  ``await receipt`` waits for its
        acknowledgement; ``durable=True`` starts a batch at once instead of
        waiting up to ``max_delay``.  Call it from the thread running the
        recorder's event loop.

        Raises: InvalidEventError for a bad hub id or stream name, an object
        that is not an event, or an event that does not belong on the stream.
        """
        kind = type(event)
        if (hub_id, stream, kind) not in self._checked:
            self._check(hub_id, stream, event)
        loop = self._loop
        loop.seq += 1
        receipt = Receipt(hub_id, stream, event, loop.seq, self._acknowledge, Fate.PENDING)
        counts = self.stats.of(hub_id)
        if self._closing:
            receipt.fate, receipt.reason = Fate.REFUSED, "closed"
            counts.refused += 1
            return receipt
        coalesced = self._buffer.put(receipt, sample=kind is MetricsSampled)
        fate = receipt.fate
        if fate is Fate.PENDING:
            counts.recorded += 1
            size = self._buffer.size
            if size == 1 or durable or size >= self._batch_size:
                loop.wake(urgent=durable or size >= self._batch_size)
        elif fate is Fate.REFUSED:
            counts.refused += 1
        else:
            counts.recorded += 1
            counts.dropped[receipt.reason] += 1
        if coalesced is not None:
            counts.coalesced += 1
        return receipt

    def _check(self, hub_id: str, stream: str, event: object) -> None:
        streams.check_name("hub_id", hub_id)
        streams.check_stream(stream)
        if not isinstance(event, Event):
            raise InvalidEventError(f"record takes an event, got {type(event).__name__}")
        category = streams.category_of(stream)
        if event.category is not None and event.category != category:
            raise InvalidEventError(
                f"{type(event).__name__} belongs on a {event.category!r} stream, not on {stream!r}"
            )
        self._checked.add((hub_id, stream, type(event)))

    # --- acknowledgement ------------------------------------------------------------

    async def flush(self) -> None:
        """Wait until every event recorded so far is settled: appended,
        spilled (fsynced), coalesced, dropped or rejected.

        Raises: RecorderError when the recorder is not running.
        """
        target = self._loop.seq
        while self._loop.acked < target:
            self._wait_check()
            passed = self._loop.passed
            self._loop.wake(urgent=True)
            await passed.wait()

    async def drain_spill(self) -> bool:
        """Try the spill file now (the backend is said to be back) instead of
        at the next backoff step; True when it is empty afterwards.

        Raises: RecorderError when the recorder is not running.
        """
        spill = self._loop.spill
        if spill is None or spill.empty:
            return True
        self._wait_check()
        self._loop.retry_drain_now()
        passed = self._loop.passed
        self._loop.wake(urgent=True)
        await passed.wait()
        return spill.empty

    async def _acknowledge(self, receipt: Receipt) -> None:
        while receipt.fate is Fate.PENDING:
            self._wait_check()
            passed = self._loop.passed
            self._loop.wake(urgent=True)
            await passed.wait()

    def _wait_check(self) -> None:
        if not self._running:
            raise RecorderError(f"recorder {self.name!r} is not running: nothing would write")

    # --- running and closing --------------------------------------------------------

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """The background task: open the spill file (draining it comes first),
        then flush until ``close()``.

        Raises: RecorderError when already running; SpillFileError when the
        spill file cannot be opened (not writable, locked by another process).
        """
        if self._running or self._stopped.is_set():
            raise RecorderError(f"recorder {self.name!r} runs once")
        if self.spill_path is not None:
            self._loop.spill = await anyio.to_thread.run_sync(self._open_spill, self.spill_path)
        self._next_stats = anyio.current_time() + self.stats_interval
        with anyio.CancelScope() as scope:
            self._scope, self._running = scope, True
            task_status.started()
            try:
                await self._loop.run()
            finally:
                self._running = False
                self._loop.passed.set()  # waiters see _running False and raise
                self._stopped.set()

    def _open_spill(self, path: Path) -> SpillFile:
        spill = SpillFile(path)
        if spill.damage is not None:
            self.damage = spill.damage
            log.warning("hublog recorder: spill file %s: %s", path, spill.damage)
        return spill

    def _maybe_stats(self, *, final: bool = False) -> None:
        now = anyio.current_time()
        if now < self._next_stats and not final:
            return
        self._next_stats = now + self.stats_interval
        for hub_id in self.stats.changed():
            counts = self.stats.of(hub_id)
            if self.damage is not None and not counts.damaged_bytes:
                counts.damaged_bytes = self.damage.bytes_after
            self.stats.written[hub_id] = counts.key()
            event = counts.event(self.run_id, self.started_at)
            self._loop.seq += 1
            receipt = Receipt(hub_id, streams.HUB, event, self._loop.seq, None, Fate.PENDING)
            self._buffer.put_internal(receipt)

    async def close(self, timeout: float | None = None) -> CloseReport:
        """Stop taking events, write what is pending (for ``timeout`` seconds,
        default ``close_timeout``), spill what the backend would not take, and
        report what could be neither (also logged as an error).  Idempotent.

        Raises: nothing of its own; the report says what was not written.
        """
        self._closing = True
        if self._running:
            with anyio.move_on_after(self.close_timeout if timeout is None else timeout):
                await self.flush()
                self._maybe_stats(final=True)
                await self.flush()  # the final stats events
                while not await self.drain_spill():  # leave no spill behind if the backend is back
                    await anyio.sleep(0.2)
            assert self._scope is not None
            self._scope.cancel()
            await self._stopped.wait()
        left = [r for r in self._loop.in_flight + self._buffer.pending() if r.fate is Fate.PENDING]
        self._buffer.take()
        report = await self._last_resort(left)
        if self._loop.spill is not None:
            self._loop.spill.close()
        return report

    async def _last_resort(self, left: list[Receipt]) -> CloseReport:
        spill = self._loop.spill
        if left and spill is not None:
            try:
                batches = [SpillBatch(r.hub_id, r.stream, [self._spill_event(r)]) for r in left]
                await anyio.to_thread.run_sync(spill.append, batches)
                for r in left:
                    r.fate = Fate.SPILLED
            except EventStoreError as exc:  # the disk refused too: reported below, not raised
                log.error("hublog recorder: cannot spill at close: %s", exc)
        for r in left:
            if r.fate is Fate.PENDING:
                r.fate = Fate.UNWRITTEN
            if counted(r):
                self.stats.of(r.hub_id).settle(r.fate)
        total = self.stats.total
        report = CloseReport(
            total.appended, total.spilled, [r for r in left if r.fate is Fate.UNWRITTEN]
        )
        if report.unwritten:
            log.error(
                "hublog recorder %s closed with %d events unwritten (first: %r)",
                self.name, len(report.unwritten), report.unwritten[0],
            )  # fmt: skip
        return report

    def _spill_event(self, receipt: Receipt) -> SpillEvent:
        encoded = self.store.codec.encode(receipt.event)
        return SpillEvent(encoded.type, encoded.schema_version, encoded.data)

    @property
    def pending(self) -> int:
        return self._buffer.size + len(self._loop.in_flight)

    @property
    def rejected(self) -> list[Receipt]:
        """Events the backend refused for good (the first 1000), with why."""
        return self._loop.rejected

    async def __aenter__(self) -> Self:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        try:
            await self._tg.start(self.run)
        except BaseException:
            await self._tg.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.last_report = await self.close()
        finally:
            await self._tg.__aexit__(exc_type, exc, tb)
