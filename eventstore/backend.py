"""What backend authors need beside the contract: the idempotent-retry rule
and the expected-version check, so every backend answers alike.

The public contract is :mod:`eventstore.store`; this module is for the
packages in ``adapters/`` that implement its primitives.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from .envelope import ANY, NO_STREAM, AppendResult, ExpectedVersion, NewEvent
from .errors import DuplicateEventError, WrongExpectedVersion

Expected = int | ExpectedVersion
"""What ``append`` takes as ``expected_version``: ANY, NO_STREAM or an exact version."""


def resolve_retry(
    hub_id: str,
    stream: str,
    batch: Sequence[NewEvent],
    written: Sequence[tuple[UUID, str, int, int]],
) -> AppendResult | None:
    """Decide what an append whose ids are partly or wholly written returns.

    ``written`` holds (event_id, stream, version, position) of those ids of
    the batch that are already in the hub's log.  None: none are, go on.
    An AppendResult: the whole batch is there as written before, return it.

    Raises:
        DuplicateEventError: only some are written, or they were written to
            another stream or in another order.
    """
    if not written:
        return None
    by_id = {event_id: (s, v, p) for event_id, s, v, p in written}
    rows = [by_id.get(e.event_id) for e in batch]
    if any(r is None for r in rows):
        raise DuplicateEventError(
            f"batch for hub {hub_id!r}, stream {stream!r} mixes {len(written)} event id(s) already "
            f"written with {rows.count(None)} new one(s); append the new ones as their own batch"
        )
    first = rows[0]
    assert first is not None
    for offset, row in enumerate(rows):
        assert row is not None
        if row[0] != stream or row[1] != first[1] + offset or row[2] != first[2] + offset:
            raise DuplicateEventError(
                f"event ids of this batch were already written to hub {hub_id!r} "
                f"as a different batch (stream {row[0]!r}, version {row[1]}), not to {stream!r}"
            )
    return AppendResult(first[1] + len(rows) - 1, first[2], first[2] + len(rows) - 1)


def expected_version_matches(expected: Expected, actual: int) -> bool:
    if expected is ANY:
        return True
    return actual == (0 if expected is NO_STREAM else expected)


def check_expected_version(hub_id: str, stream: str, expected: Expected, actual: int) -> None:
    """Raises: WrongExpectedVersion unless ``actual`` satisfies ``expected``."""
    if not expected_version_matches(expected, actual):
        raise WrongExpectedVersion(hub_id, stream, expected, actual)
