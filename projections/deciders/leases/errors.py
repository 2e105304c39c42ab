"""The lease service's errors, under hublog's one root (:class:`EventStoreError`).

A refused renewal or release is not an error (it returns None / False); these
are the calls that could not be answered at all.
"""

from __future__ import annotations

from projections.errors import ProjectionError


class LeaseError(ProjectionError):
    """Root of the errors raised by ``projections.deciders.leases``."""


class InvalidLeaseRequest(LeaseError, ValueError):
    """A lease call with arguments that cannot be right (a ttl <= 0, a
    capacity < 1, an empty owner, a token < 1)."""


class CapacityMismatch(LeaseError, ValueError):
    """An acquire asked for another capacity than the resource's first grant
    fixed; nothing was written."""

    def __init__(self, hub_id: str, resource_id: str, fixed: int, asked: int) -> None:
        self.hub_id = hub_id
        self.resource_id = resource_id
        self.fixed = fixed
        self.asked = asked
        super().__init__(
            f"Wrong lease capacity: {asked} (Hub: {hub_id}, Resource: {resource_id}, "
            f"Fixed: {fixed}, Asked: {asked})"
        )


class LeaseContention(LeaseError, RuntimeError):
    """Every attempt at a lease change lost its optimistic-concurrency race
    to another writer; nothing of this call was written."""

    def __init__(self, hub_id: str, resource_id: str, attempts: int) -> None:
        self.hub_id = hub_id
        self.resource_id = resource_id
        self.attempts = attempts
        super().__init__(
            f"Lease contention: {attempts} attempts lost to other writers "
            f"(Hub: {hub_id}, Resource: {resource_id})"
        )


class LeaseUnreadable(LeaseError, RuntimeError):
    """The lock stream holds an event this code cannot read (a newer type or
    a corrupt payload): deciding on a guess could grant a held lease."""

    def __init__(self, hub_id: str, resource_id: str, version: int, type_name: str) -> None:
        self.hub_id = hub_id
        self.resource_id = resource_id
        super().__init__(
            f"Unreadable lock event: {type_name} at version {version} "
            f"(Hub: {hub_id}, Resource: {resource_id})"
        )
