"""The store contract: what every backend promises, checked once, here.

:class:`EventStore` holds everything that is the same on every backend —
argument checks, encoding and decoding, paging, the subscribe loop, the
retry rule for idempotent appends — and leaves a handful of small primitives
(``_append``, ``_read_stream_page``, ``_read_log_page``, …) to each backend
module in ``adapters/``.  A backend never sees an unchecked argument or an
undecoded event, and never decides what an idempotent retry returns.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from datetime import datetime
from types import TracebackType
from typing import Self
from uuid import UUID

import anyio

from . import importing, streams
from .backend import Expected
from .codec import DEFAULT_CODEC, Codec
from .envelope import (
    ANY,
    AppendResult,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    StoredEvent,
)
from .errors import (
    BackendUnavailable,
    DuplicateEventError,
    InvalidEventError,
    StoreClosed,
)
from .events import Event
from .retry import RetryPolicy

DEFAULT_MAX_EVENT_BYTES = 1024 * 1024
DEFAULT_PAGE_SIZE = 500
SAMPLE_TYPE = "MetricsSampled"  # the one event type retention may remove


class EventStore(abc.ABC):
    """An append-only, per-hub log of events.

    Use as ``async with store:`` or call :meth:`close` when done.
    """

    page_size: int = DEFAULT_PAGE_SIZE
    reconnect_timeout: float = 30.0

    def __init__(
        self, *, codec: Codec | None = None, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    ) -> None:
        self.codec = codec or DEFAULT_CODEC
        self.max_event_bytes = max_event_bytes
        self._closed = False
        self._wakeups = Wakeups()

    # --- the public contract ------------------------------------------------

    async def append(
        self,
        hub_id: str,
        stream: str,
        events: Sequence[Event],
        *,
        expected_version: Expected = ANY,
        correlation_id: str | UUID | None = None,
        causation_id: str | UUID | None = None,
    ) -> AppendResult:
        """Append a batch to one stream of one hub, atomically.

        ``expected_version`` is :data:`ANY`, :data:`NO_STREAM` or the exact
        version the stream must have now.  Appending a batch whose event ids
        are all already written returns the original result and writes
        nothing (a retry after a timeout is safe).

        Raises:
            WrongExpectedVersion: the stream is not at ``expected_version``.
            DuplicateEventError: some, not all, of the ids are already written,
                or the batch repeats an id.
            InvalidEventError: bad hub id, stream, event or empty batch.
            BackendUnavailable: the backend did not answer; retry the same batch.
            StoreClosed: after :meth:`close`.
        """
        self._check_open()
        streams.check_name("hub_id", hub_id)
        streams.check_stream(stream)
        _check_expected(expected_version)
        batch = self._encode_batch(stream, events, correlation_id, causation_id)
        result = await self._append(hub_id, stream, batch, expected_version)
        self._appended(hub_id)
        return result

    async def read_stream(
        self,
        hub_id: str,
        stream: str,
        *,
        after_version: int = 0,
        before_version: int | None = None,
        backwards: bool = False,
        limit: int | None = None,
    ) -> AsyncGenerator[RecordedEvent, None]:
        """Events of one stream with ``after_version < version < before_version``.

        Oldest first, or newest first with ``backwards=True`` (so
        ``backwards=True, limit=1`` is the stream's last event).
        """
        self._check_open()
        streams.check_name("hub_id", hub_id)
        streams.check_stream(stream)
        _check_position("after_version", after_version)
        if before_version is not None:
            _check_position("before_version", before_version)
        _check_limit(limit)
        remaining = limit
        low, high = after_version, before_version
        while remaining is None or remaining > 0:
            size = self.page_size if remaining is None else min(self.page_size, remaining)
            page = await self._read_stream_page(
                hub_id,
                stream,
                after_version=low,
                before_version=high,
                backwards=backwards,
                limit=size,
            )
            for stored in page:
                yield self.codec.decode(stored)
            if len(page) < size:
                return
            if remaining is not None:
                remaining -= len(page)
            if backwards:
                high = page[-1].version
            else:
                low = page[-1].version

    async def read_log(
        self, hub_id: str, *, after: int = 0, limit: int | None = None
    ) -> AsyncGenerator[RecordedEvent, None]:
        """A hub's whole log from position ``after`` (exclusive), in order."""
        self._check_open()
        streams.check_name("hub_id", hub_id)
        _check_position("after", after)
        _check_limit(limit)
        remaining = limit
        position = after
        while remaining is None or remaining > 0:
            size = self.page_size if remaining is None else min(self.page_size, remaining)
            page = await self._read_log_page(hub_id, after=position, limit=size)
            for stored in page:
                yield self.codec.decode(stored)
            if len(page) < size:
                return
            position = page[-1].position
            if remaining is not None:
                remaining -= len(page)

    async def subscribe(
        self, hub_id: str, *, after: int = 0
    ) -> AsyncGenerator[RecordedEvent, None]:
        """Catch up from position ``after``, then follow new events live.

        Every event is yielded once, in position order.  Ends when the
        consumer stops iterating, its task is cancelled, or the store closes.
        A backend that becomes unreachable is retried with backoff for up to
        ``reconnect_timeout`` seconds, resuming at the same position.

        Raises: BackendUnavailable when an outage outlasts ``reconnect_timeout``.
        """
        self._check_open()
        streams.check_name("hub_id", hub_id)
        _check_position("after", after)
        position = after
        outage = RetryPolicy(deadline=self.reconnect_timeout).start()
        while not self._closed:
            woken = self._wakeups.arm(hub_id)
            try:
                page = await self._read_log_page(hub_id, after=position, limit=self.page_size)
            except BackendUnavailable as exc:
                await outage.wait(exc)  # then read again from the same position
                continue
            # An outage ends when the log moves or a wait succeeds, not at any
            # read: waits that keep failing between good reads (notifications
            # lost, reads fine) back off and give up like failing reads do.
            if page:
                outage.reset()
            for stored in page:
                yield self.codec.decode(stored)
                position = stored.position
            if len(page) < self.page_size and not self._closed:
                try:
                    await self._wait_for_events(hub_id, position, woken)
                except BackendUnavailable as exc:
                    await outage.wait(exc)
                else:
                    outage.reset()

    async def last_event(self, hub_id: str, stream: str) -> RecordedEvent | None:
        """The newest event of a stream, or None for a stream with no events."""
        async with aclosing(self.read_stream(hub_id, stream, backwards=True, limit=1)) as events:
            async for event in events:
                return event
        return None

    async def position_at(self, hub_id: str, when: datetime) -> int:
        """The last position recorded at or before ``when`` (0 if none).

        Raises: InvalidEventError for a naive datetime.
        """
        self._check_open()
        streams.check_name("hub_id", hub_id)
        if not isinstance(when, datetime) or when.utcoffset() is None:
            raise InvalidEventError(f"when must be a timezone-aware datetime, got {when!r}")
        return await self._position_at(hub_id, when)

    async def delete_metric_samples(self, hub_id: str, stream: str, *, through_version: int) -> int:
        """Remove the raw ``MetricsSampled`` events of a ``metrics/<id>`` stream
        with version <= ``through_version``; return how many were removed.

        The only deletion the log allows: lifecycle and lock events, and
        rollups, stay forever.  Stream versions and the hub's head never go
        down, so positions are never reused.  Call it only once a
        ``MetricsRolledUp`` covering these versions is in the stream (the
        retention job in ``projections`` does).

        A deleted event's id stays known: appending a batch of deleted
        samples again writes nothing and returns what a retry of the
        original append returns (its positions and version), on every
        backend; mixed with new ids, or in another stream or order, it is a
        DuplicateEventError as for a retry (docs/reliability.md).

        Raises: InvalidEventError for a stream that is not ``metrics/<id>``.
        """
        self._check_open()
        streams.check_name("hub_id", hub_id)
        streams.check_stream(stream)
        if streams.category_of(stream) != "metrics":
            raise InvalidEventError(f"only metric samples may be deleted, not events of {stream!r}")
        _check_position("through_version", through_version)
        return await self._delete_events(hub_id, stream, through_version, SAMPLE_TYPE)

    async def import_events(self, hub_id: str, events: Sequence[StoredEvent]) -> int:
        """Write events exactly as another log recorded them (positions,
        versions, event ids, ``recorded_at``, payload bytes), atomically;
        return how many were new.

        For copying a log (``hublog import``).  Events already here at the
        same place are skipped, so importing the same batch again writes
        nothing.  New ones must continue this hub's log: positions after its
        head, versions above their stream's, recorded no earlier than its
        last event (see :mod:`eventstore.importing`).  Appends to the hub
        wait meanwhile, so positions stay gap-free and commit-ordered.

        Raises:
            DuplicateEventError: the log disagrees with the batch ("Import
                conflict: …", naming hub, position and stream), or the batch
                repeats an event id; nothing written.
            InvalidEventError: a batch not in position order, of another hub,
                or with a naive time.
            BackendUnavailable, StoreClosed.
        """
        self._check_open()
        streams.check_name("hub_id", hub_id)
        importing.check_batch(hub_id, events)
        if not events:
            return 0
        written = await self._import_events(hub_id, events)
        if written:
            self._appended(hub_id)
        return written

    async def stream_version(self, hub_id: str, stream: str) -> int:
        """The stream's version: the number of events ever appended to it."""
        self._check_open()
        streams.check_name("hub_id", hub_id)
        streams.check_stream(stream)
        return await self._stream_version(hub_id, stream)

    async def hubs_with_stream(self, stream: str) -> list[str]:
        """Every hub whose log has ``stream`` (an instance's, a lease's), sorted:
        how a call by instance id finds its hub.  One index lookup on the
        built-in backends, however many hubs the store holds.

        Raises: InvalidEventError for a bad stream name; BackendUnavailable.
        """
        self._check_open()
        streams.check_stream(stream)
        return sorted(await self._hubs_with_stream(stream))

    async def _hubs_with_stream(self, stream: str) -> list[str]:
        """A backend without an index of streams asks every hub."""
        return [hub for hub in await self._hubs() if await self._stream_version(hub, stream) > 0]

    async def head(self, hub_id: str) -> int:
        """The hub's last position (0 for a hub with no events)."""
        self._check_open()
        streams.check_name("hub_id", hub_id)
        return await self._head(hub_id)

    async def hubs(self) -> list[str]:
        """Every hub with at least one event, sorted."""
        self._check_open()
        return sorted(await self._hubs())

    @abc.abstractmethod
    async def now(self) -> datetime:
        """The backend's clock (timezone-aware UTC): the one that stamps
        ``recorded_at`` and judges lease expiry."""

    async def open(self) -> None:
        """Connect and check the backend (``open_store`` calls it).

        Raises: BackendUnavailable, SchemaVersionError.
        """
        self._check_open()

    async def close(self) -> None:
        """Release connections; running subscriptions end.  Idempotent."""
        self._closed = True
        self._wakeups.wake_all()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- for backends -------------------------------------------------------

    @abc.abstractmethod
    async def _append(
        self, hub_id: str, stream: str, batch: Sequence[NewEvent], expected: Expected
    ) -> AppendResult:
        """Write ``batch`` atomically; use :func:`eventstore.backend.resolve_retry`
        and :func:`eventstore.backend.check_expected_version` so every backend
        answers alike."""

    @abc.abstractmethod
    async def _read_stream_page(
        self,
        hub_id: str,
        stream: str,
        *,
        after_version: int,
        before_version: int | None,
        backwards: bool,
        limit: int,
    ) -> Sequence[StoredEvent]: ...

    @abc.abstractmethod
    async def _read_log_page(
        self, hub_id: str, *, after: int, limit: int
    ) -> Sequence[StoredEvent]: ...

    @abc.abstractmethod
    async def _stream_version(self, hub_id: str, stream: str) -> int: ...

    @abc.abstractmethod
    async def _position_at(self, hub_id: str, when: datetime) -> int: ...

    @abc.abstractmethod
    async def _delete_events(
        self, hub_id: str, stream: str, through_version: int, type_name: str
    ) -> int:
        """Delete events of ``type_name`` in ``stream`` with version <= through_version."""

    @abc.abstractmethod
    async def _import_events(self, hub_id: str, events: Sequence[StoredEvent]) -> int:
        """Write the events of the checked batch that are new, all or none,
        under the hub's append lock, deciding with
        :func:`eventstore.importing.new_events`; return how many were written."""

    @abc.abstractmethod
    async def _head(self, hub_id: str) -> int: ...

    @abc.abstractmethod
    async def _hubs(self) -> list[str]: ...

    @abc.abstractmethod
    async def _wait_for_events(self, hub_id: str, after: int, woken: anyio.Event) -> None:
        """Return when events after ``after`` may exist: at the latest when
        ``woken`` is set (an append in this process, or close), earlier if
        the backend learns of appends by other processes.  Spurious returns
        are fine; missing one is not."""

    def _appended(self, hub_id: str) -> None:
        self._wakeups.wake(hub_id)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed(f"{type(self).__name__} is closed")

    # --- helpers ------------------------------------------------------------

    def _encode_batch(
        self,
        stream: str,
        events: Sequence[Event],
        correlation_id: str | UUID | None,
        causation_id: str | UUID | None,
    ) -> list[NewEvent]:
        if isinstance(events, Event) or not isinstance(events, Sequence):
            raise InvalidEventError(
                f"events must be a sequence of events, got {type(events).__name__}"
            )
        if not events:
            raise InvalidEventError(f"empty batch for stream {stream!r}: nothing to append")
        correlation = streams.check_id("correlation_id", correlation_id)
        causation = streams.check_id("causation_id", causation_id)
        category = streams.category_of(stream)
        batch = []
        for event in events:
            encoded = self.codec.encode(event, correlation_id=correlation, causation_id=causation)
            if event.category is not None and event.category != category:
                raise InvalidEventError(
                    f"{encoded.type} belongs on a {event.category!r} stream, not on {stream!r}"
                )
            if len(encoded.data) > self.max_event_bytes:
                raise InvalidEventError(
                    f"{encoded.type} {encoded.event_id} is {len(encoded.data)} bytes encoded; "
                    f"the limit is {self.max_event_bytes} (max_event_bytes)"
                )
            batch.append(encoded)
        ids = [e.event_id for e in batch]
        if len(set(ids)) != len(ids):
            raise DuplicateEventError(f"the batch for stream {stream!r} repeats an event id")
        return batch


def _check_expected(expected: object) -> None:
    if isinstance(expected, ExpectedVersion):
        return
    if (
        isinstance(expected, bool)
        or not isinstance(expected, int)
        or not 0 <= expected <= MAX_POSITION
    ):
        raise InvalidEventError(
            f"expected_version must be ANY, NO_STREAM or a version in 0..2**63-1, got {expected!r}"
        )


MAX_POSITION = 2**63 - 1
"""The largest position, version or limit: what a signed 64-bit column holds."""


def _check_position(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_POSITION:
        raise InvalidEventError(f"{name} must be an int in 0..2**63-1, got {value!r}")


def _check_limit(limit: object) -> None:
    if limit is not None:
        _check_position("limit", limit)


class Wakeups:
    """In-process wake-ups for subscribers, one :class:`anyio.Event` per hub.

    A subscriber *arms* before it reads a page and waits on what it armed, so
    an append that lands between the read and the wait still wakes it.
    """

    def __init__(self) -> None:
        self._events: dict[str, anyio.Event] = {}

    def arm(self, hub_id: str) -> anyio.Event:
        event = self._events.get(hub_id)
        if event is None:
            event = self._events[hub_id] = anyio.Event()
        return event

    def wake(self, hub_id: str) -> None:
        event = self._events.pop(hub_id, None)
        if event is not None:
            event.set()

    def wake_all(self) -> None:
        for hub_id in list(self._events):
            self.wake(hub_id)
