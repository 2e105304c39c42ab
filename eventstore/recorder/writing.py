"""Appending one batch so that nothing is doubled and nothing invalid blocks the rest.

A batch is appended whole (one atomic, idempotent append: a retry of a batch
that was written returns the original result).  Only ``BackendUnavailable``
and ``StoreClosed`` mean "try again later"; any other refusal is about the
events themselves, so the batch is split and each event tried alone: the
good ones are written, the bad ones returned as rejected — never retried
forever, never silently gone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..errors import BackendUnavailable, EventStoreError, StoreClosed
from ..events import Event
from ..store import EventStore

log = logging.getLogger(__name__)

TRANSIENT = (BackendUnavailable, StoreClosed)


async def append_batch(
    store: EventStore, hub_id: str, stream: str, events: Sequence[Event]
) -> list[tuple[int, str]]:
    """Append ``events``; return ``(index, why)`` of the events the backend refused.

    Raises: BackendUnavailable or StoreClosed: nothing may have been written
    (or all of it: appending the same events again is safe).
    """
    try:
        await store.append(hub_id, stream, list(events))
        return []
    except TRANSIENT:
        raise
    except EventStoreError as exc:  # refused for what the events are: find which ones
        log.debug("batch for %s %s refused (%s); trying its events one by one", hub_id, stream, exc)
    rejected = []
    for index, event in enumerate(events):
        try:
            await store.append(hub_id, stream, [event])
        except TRANSIENT:
            raise
        except EventStoreError as exc:  # kept in the answer, with why
            rejected.append((index, f"{type(exc).__name__}: {exc}"))
    return rejected
