"""The newest head known per watched hub: where a follower's thread and the
threads of waiting subscribers meet."""

from __future__ import annotations

import threading


class KnownHeads:
    """The newest head known per watched hub, shared by a follower's thread
    (which raises them) and the worker threads of waiting subscribers."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._heads: dict[str, int] = {}
        self.waiting = 0
        self.closed = False

    def watch(self, hub_id: str) -> bool:
        """Start tracking ``hub_id``; True the first time."""
        with self._changed:
            if hub_id in self._heads:
                return False
            self._heads[hub_id] = 0
            return True

    def __len__(self) -> int:
        return len(self._heads)

    def watched(self) -> list[str]:
        with self._changed:
            return list(self._heads)

    def raise_to(self, hub_id: str, head: int) -> None:
        with self._changed:
            if head > self._heads.get(hub_id, head):
                self._heads[hub_id] = head
                self._changed.notify_all()

    def past(self, hub_id: str, after: int) -> bool:
        with self._changed:
            return self.closed or self._heads.get(hub_id, 0) > after

    def wait_past(self, hub_id: str, after: int, abandoned: threading.Event) -> None:
        """Block until the hub's known head passes ``after``, close, or
        ``abandoned`` is set (with :meth:`abandon`)."""
        with self._changed:
            self.waiting += 1
            self._changed.notify_all()  # a parked change check starts
            try:
                self._changed.wait_for(
                    lambda: self.closed or abandoned.is_set() or self._heads.get(hub_id, 0) > after
                )
            finally:
                self.waiting -= 1

    def abandon(self, abandoned: threading.Event) -> None:
        with self._changed:
            abandoned.set()
            self._changed.notify_all()

    def park(self) -> None:
        """Block while no subscriber waits (a change check then costs nothing)."""
        with self._changed:
            self._changed.wait_for(lambda: self.closed or self.waiting > 0)

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()
