"""The bounded buffer between ``record()`` and the flush loop.

One FIFO per (hub, stream), so a stream's events leave in the order they
were recorded; streams leave in the order they first had something pending.
Everything here is plain, synchronous and O(1) per event: ``record()`` runs
it on the caller's hot path.

Overload rules, in order:

* samples (``MetricsSampled``) may fill only ``sample_share`` of the buffer,
  so lifecycle and lock events always find room before samples do;
* a sample that finds no room replaces the newest pending sample of the same
  series (coalesced: the latest per instance wins) — or, when that series has
  none pending, is dropped (the last resort);
* a lifecycle or lock event that finds no room is refused: ``record()``
  returns the refusal and the caller decides (retry, wait for room, fail).
"""

from __future__ import annotations

from collections import deque

from .receipt import Fate, Receipt

SAMPLE_SHARE = 0.9


class Buffer:
    """At most ``limit`` pending events (internal stats events excepted)."""

    def __init__(self, limit: int, *, sample_share: float = SAMPLE_SHARE) -> None:
        if limit < 1:
            raise ValueError(f"max_buffer must be at least 1, got {limit}")
        self.limit = limit
        self.sample_limit = max(1, int(limit * sample_share))
        self.size = 0
        self._queues: dict[tuple[str, str], deque[Receipt]] = {}
        self._samples: dict[tuple[str, str], Receipt] = {}  # newest pending sample per series

    def put(self, receipt: Receipt, *, sample: bool) -> Receipt | None:
        """Buffer ``receipt`` or settle it as refused/dropped; return the
        receipt it coalesced away, if any."""
        key = (receipt.hub_id, receipt.stream)
        if sample and self.size >= self.sample_limit:
            return self._coalesce(key, receipt)
        if not sample and self.size >= self.limit:
            receipt.fate, receipt.reason = Fate.REFUSED, "buffer_full"
            return None
        self._append(key, receipt, sample)
        return None

    def put_internal(self, receipt: Receipt) -> None:
        """Buffer regardless of the limit (the recorder's own stats events)."""
        self._append((receipt.hub_id, receipt.stream), receipt, False)

    def _append(self, key: tuple[str, str], receipt: Receipt, sample: bool) -> None:
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
        queue.append(receipt)
        self.size += 1
        if sample:
            self._samples[key] = receipt
        else:  # a sample may only replace the queue's last entry: order stays as recorded
            self._samples.pop(key, None)

    def _coalesce(self, key: tuple[str, str], receipt: Receipt) -> Receipt | None:
        older = self._samples.get(key)
        if older is None:
            receipt.fate, receipt.reason = Fate.DROPPED, "buffer_full"
            return None
        self._queues[key][-1] = receipt  # _samples holds only a queue's last entry
        self._samples[key] = receipt
        older.fate, older.reason = Fate.COALESCED, "buffer_full"
        return older

    def take(self) -> list[tuple[str, str, list[Receipt]]]:
        """Everything pending, as (hub, stream, receipts) in leaving order; the
        buffer is empty afterwards."""
        taken = [(hub, stream, list(queue)) for (hub, stream), queue in self._queues.items()]
        self._queues.clear()
        self._samples.clear()
        self.size = 0
        return taken

    def pending(self) -> list[Receipt]:
        return [r for queue in self._queues.values() for r in queue]
