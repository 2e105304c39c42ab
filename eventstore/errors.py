"""The one error hierarchy of hublog.

Every backend translates its driver's errors into these, in one place, with
``raise … from e``.  Each class also subclasses the builtin it behaves like, so
callers that know nothing of hublog still catch them sensibly.  Only
:class:`BackendUnavailable` is worth retrying.
"""

from __future__ import annotations


class EventStoreError(Exception):
    """Root of every error hublog raises on purpose."""


class WrongExpectedVersion(EventStoreError, RuntimeError):
    """An append's expected version did not match the stream; nothing was written."""

    def __init__(self, hub_id: str, stream: str, expected: object, actual: int) -> None:
        self.hub_id = hub_id
        self.stream = stream
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"Wrong expected version: {expected} "
            f"(Hub: {hub_id}, Stream: {stream}, Expected: {expected}, Actual: {actual})"
        )


class DuplicateEventError(EventStoreError, ValueError):
    """A batch mixes event ids already written with new ones, or repeats an id.

    A whole batch that was already written is not an error: append returns the
    original result.  Part of one is, because no answer would be honest.
    """


class InvalidEventError(EventStoreError, ValueError):
    """An event, a batch, a hub id or a stream name that the log refuses."""


class EventDecodeError(EventStoreError, ValueError):
    """A stored payload could not be turned back into its event type."""


class BackendUnavailable(EventStoreError, ConnectionError):
    """The backend could not be reached or timed out; the only retryable error.

    After a timeout an append may or may not have been written: retry it with
    the same event objects (same event ids) and the log answers idempotently.
    """


class BackendError(EventStoreError, RuntimeError):
    """The backend refused a request for a reason hublog does not expect and
    that retrying will not cure (its own message is chained, redacted).
    Nothing was written."""


class SchemaVersionError(EventStoreError, RuntimeError):
    """The database's schema revision is not the one this hublog expects."""


class StoreConfigurationError(EventStoreError, ValueError):
    """A store URL or option is malformed or unsupported."""


class StoreClosed(EventStoreError, RuntimeError):
    """The store was used after ``close()``."""
