"""The recorder's errors: part of hublog's one hierarchy (``EventStoreError``)."""

from __future__ import annotations

from ..errors import EventStoreError


class RecorderError(EventStoreError, RuntimeError):
    """The recorder cannot do what was asked (not running, already closed)."""


class SpillFileError(EventStoreError, OSError):
    """A spill file that cannot be opened: not a spill file, in use by
    another process, or not writable.  Damage inside one is never an error:
    it is truncated and reported."""
