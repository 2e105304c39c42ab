"""The reservation queue's errors, under hublog's one root (:class:`EventStoreError`)."""

from __future__ import annotations

from projections.errors import ProjectionError


class QueueError(ProjectionError):
    """Root of the errors raised by ``projections.queue``."""


class InvalidReservation(QueueError, ValueError):
    """A reserve call with arguments that cannot be right (a ttl <= 0, a
    negative wait, an empty owner, requirements of the wrong shape)."""


class ReservationTimeout(QueueError, TimeoutError):
    """No slot could be granted within ``wait`` seconds; the request has
    left the queue (``RequestAbandoned``, reason ``timeout``), or — with
    ``wait=0`` — never joined it."""

    def __init__(self, hub_id: str, owner_id: str, wait: float, request_id: str) -> None:
        self.hub_id = hub_id
        self.owner_id = owner_id
        self.wait = wait
        self.request_id = request_id
        super().__init__(
            f"Reservation timed out: {wait:g} s (Hub: {hub_id}, Owner: {owner_id}, "
            f"Request: {request_id})"
        )


class QueueContention(QueueError, RuntimeError):
    """Every attempt at a queue change lost its optimistic-concurrency race."""

    def __init__(self, hub_id: str, attempts: int) -> None:
        self.hub_id = hub_id
        self.attempts = attempts
        super().__init__(
            f"Queue contention: {attempts} attempts lost to other writers (Hub: {hub_id})"
        )


class QueueUnreadable(QueueError, RuntimeError):
    """The queue stream's last event is of a type this code cannot read (a
    newer type or a corrupt payload): deciding on a guess could break FIFO."""

    def __init__(self, hub_id: str, version: int, type_name: str) -> None:
        self.hub_id = hub_id
        super().__init__(
            f"Unreadable queue event: {type_name} at version {version} (Hub: {hub_id})"
        )
