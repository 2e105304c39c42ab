"""Errors of the projection layer, under hublog's one root (:class:`EventStoreError`)."""

from __future__ import annotations

from eventstore.errors import EventStoreError


class ProjectionError(EventStoreError):
    """Root of the errors raised by ``projections``."""


class CheckpointConflict(ProjectionError, RuntimeError):
    """A commit continued from a checkpoint that is no longer the stored one:
    another runner (or a rebuild) moved it.  Nothing was written; reload."""

    def __init__(self, projection: str, hub_id: str, expected: int, actual: int) -> None:
        self.projection = projection
        self.hub_id = hub_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"Checkpoint moved: {actual} (Projection: {projection}, Hub: {hub_id}, "
            f"Expected: {expected}, Actual: {actual})"
        )


class ProjectionOutdated(ProjectionError, RuntimeError):
    """The stored read model was built by another version or configuration of
    the projection; rebuild it (``rebuild(...)``) before running."""

    def __init__(self, projection: str, hub_id: str, stored: str, current: str) -> None:
        self.projection = projection
        self.hub_id = hub_id
        self.stored = stored
        self.current = current
        super().__init__(
            f"read model {projection!r} of hub {hub_id!r} was built as {stored!r}, "
            f"this code builds {current!r}: rebuild it"
        )


class InvalidQuery(ProjectionError, ValueError):
    """A read-model query or call with arguments that cannot be right."""
