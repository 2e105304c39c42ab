"""Every refusal of the store front, word for word, for every public method.

``test_bad_input.py`` and ``test_append.py`` check *that* bad arguments are
refused (most by a fragment of the message); this module pins the whole
message, so a check that names the wrong argument (``None must be an int…``)
or says nothing useful fails here.

The argument checks live in :class:`eventstore.store.EventStore` (and
:mod:`eventstore.streams`), the shared front, and run before any backend
primitive is called: a backend never sees an unchecked argument.  So the
pure-argument cases run on one :class:`~adapters.memory.MemoryEventStore`
under asyncio only; running them on PostgreSQL or Redis would only set up a
schema or prefix per case to exercise the same lines of ``store.py``.  What
does reach a backend runs on every backend through the contract ``store``
fixture: WrongExpectedVersion as each backend raises it, and the largest
accepted positions and limits (which a backend must store or compare
without overflow).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from datetime import date, datetime, tzinfo
from typing import Any

import anyio
import pytest

from adapters.memory import MemoryEventStore
from eventstore import (
    DEFAULT_CODEC,
    NO_STREAM,
    DuplicateEventError,
    Event,
    EventStore,
    ExpectedVersion,
    InvalidEventError,
    RecordedEvent,
    StoreClosed,
    WrongExpectedVersion,
)
from tests.backends import Backend
from tests.eventstore.contract.factories import T0, checked, granted, registered, sampled

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"
M = "metrics/a"
MAX = 2**63 - 1
CATEGORIES = "('hub', 'instance', 'metrics', 'lock', 'queue')"


@pytest.fixture
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """asyncio for the front's checks; a case on the contract ``store``
    runs under its backend's async library (``tests/eventstore/contract/conftest.py``)."""
    if "backend" in request.fixturenames:
        backend: Backend = request.getfixturevalue("backend")
        return backend.anyio
    return "asyncio"


@pytest.fixture
async def front() -> AsyncIterator[MemoryEventStore]:
    async with MemoryEventStore() as store:
        yield store


async def first(events: AsyncGenerator[RecordedEvent, None]) -> RecordedEvent | None:
    """The first event a read yields (its checks run on the first step)."""
    async with aclosing(events):
        async for event in events:
            return event
    return None


async def refusal(call: Awaitable[object], error: type[Exception] = InvalidEventError) -> str:
    """The message of the ``error`` (exactly that class) that awaiting ``call`` raises."""
    with anyio.fail_after(5), pytest.raises(error) as caught:
        await call
    assert type(caught.value) is error
    return str(caught.value)


async def nothing_written(store: EventStore) -> bool:
    return await store.hubs() == [] and await store.head(HUB) == 0


Call = Callable[[EventStore, Any], Awaitable[object]]

# -- hub ids: every method that takes one --------------------------------------

BY_HUB: dict[str, Call] = {
    "append": lambda s, hub: s.append(hub, A, [registered()]),
    "read_stream": lambda s, hub: first(s.read_stream(hub, A)),
    "read_log": lambda s, hub: first(s.read_log(hub)),
    "subscribe": lambda s, hub: first(s.subscribe(hub)),
    "last_event": lambda s, hub: s.last_event(hub, A),
    "position_at": lambda s, hub: s.position_at(hub, T0),
    "delete_metric_samples": lambda s, hub: s.delete_metric_samples(hub, M, through_version=1),
    "import_events": lambda s, hub: s.import_events(hub, []),
    "stream_version": lambda s, hub: s.stream_version(hub, A),
    "head": lambda s, hub: s.head(hub),
}

BAD_HUB_IDS = [
    pytest.param(42, "hub_id must be a str, got int: 42", id="not-a-str"),
    pytest.param(None, "hub_id must be a str, got NoneType: None", id="none"),
    pytest.param(b"pool", "hub_id must be a str, got bytes: b'pool'", id="bytes"),
    pytest.param("", "hub_id must be non-empty without surrounding spaces: ''", id="empty"),
    pytest.param(
        " pool", "hub_id must be non-empty without surrounding spaces: ' pool'", id="leading-space"
    ),
    pytest.param(
        "pool\n", "hub_id must be non-empty without surrounding spaces: 'pool\\n'", id="newline"
    ),
    pytest.param(
        "x" * 201, f"hub_id is longer than 200 characters: {'x' * 40!r}…", id="201-characters"
    ),
    pytest.param(
        "{pool}", "hub_id '{pool}' contains characters the log refuses: ['{', '}']", id="braces"
    ),
    pytest.param(
        "po\x00ol", "hub_id 'po\\x00ol' contains characters the log refuses: ['\\x00']", id="nul"
    ),
    pytest.param(
        "pool-\ud800",
        "hub_id 'pool-\\ud800' contains characters the log refuses: ['\\ud800']",
        id="lone-surrogate",
    ),
]


@pytest.mark.parametrize("method", BY_HUB)
@pytest.mark.parametrize(("hub_id", "message"), BAD_HUB_IDS)
async def test_a_bad_hub_id_is_refused_by_every_method_naming_hub_id(
    front: EventStore, method: str, hub_id: object, message: str
) -> None:
    assert await refusal(BY_HUB[method](front, hub_id)) == message

    assert await front.hubs() == []


# -- stream names: every method that takes one ---------------------------------

BY_STREAM: dict[str, Call] = {
    "append": lambda s, stream: s.append(HUB, stream, [registered()]),
    "read_stream": lambda s, stream: first(s.read_stream(HUB, stream)),
    "last_event": lambda s, stream: s.last_event(HUB, stream),
    "delete_metric_samples": lambda s, stream: s.delete_metric_samples(
        HUB, stream, through_version=1
    ),
    "stream_version": lambda s, stream: s.stream_version(HUB, stream),
}

LONG_STREAM = "instance/" + "x" * 192  # 201 characters

BAD_STREAMS = [
    pytest.param(7, "stream must be a str, got int: 7", id="not-a-str"),
    pytest.param(None, "stream must be a str, got NoneType: None", id="none"),
    pytest.param("", "stream must be non-empty without surrounding spaces: ''", id="empty"),
    pytest.param(
        "instance/a ",
        "stream must be non-empty without surrounding spaces: 'instance/a '",
        id="trailing-space",
    ),
    pytest.param(
        LONG_STREAM,
        f"stream is longer than 200 characters: {LONG_STREAM[:40]!r}…",
        id="201-characters",
    ),
    pytest.param(
        "instance/{a}",
        "stream 'instance/{a}' contains characters the log refuses: ['{', '}']",
        id="braces",
    ),
    pytest.param(
        "instance/a\u2028b",
        "stream 'instance/a\\u2028b' contains characters the log refuses: ['\\u2028']",
        id="line-separator",
    ),
    pytest.param(
        "widgets/a",
        f"stream 'widgets/a' has unknown category 'widgets'; expected one of {CATEGORIES}",
        id="unknown-category",
    ),
    pytest.param(
        "Instance/a",
        f"stream 'Instance/a' has unknown category 'Instance'; expected one of {CATEGORIES}",
        id="category-in-capitals",
    ),
    pytest.param(
        "instance",
        "stream 'instance' is malformed: 'hub' stands alone, the others are '<category>/<id>'",
        id="category-without-id",
    ),
    pytest.param(
        "hub/a",
        "stream 'hub/a' is malformed: 'hub' stands alone, the others are '<category>/<id>'",
        id="hub-with-id",
    ),
    pytest.param("metrics/", "stream 'metrics/' has an empty entity id", id="empty-entity-id"),
]


@pytest.mark.parametrize("method", BY_STREAM)
@pytest.mark.parametrize(("stream", "message"), BAD_STREAMS)
async def test_a_bad_stream_name_is_refused_by_every_method_naming_it(
    front: EventStore, method: str, stream: object, message: str
) -> None:
    assert await refusal(BY_STREAM[method](front, stream)) == message

    assert await nothing_written(front)


async def test_the_hub_id_is_checked_before_the_stream(front: EventStore) -> None:
    assert await refusal(front.append("", "widgets/a", [registered()])) == (
        "hub_id must be non-empty without surrounding spaces: ''"
    )


async def test_the_longest_names_and_ids_are_accepted(front: EventStore) -> None:
    hub, stream, correlation = "h" * 200, "instance/" + "x" * 191, "c" * 200

    result = await front.append(hub, stream, [registered()], correlation_id=correlation)

    assert result.version == 1
    [event] = [e async for e in front.read_stream(hub, stream)]
    assert (event.hub_id, event.stream, event.correlation_id) == (hub, stream, correlation)


# -- positions, versions and limits ---------------------------------------------

BY_POSITION: dict[str, tuple[str, Call]] = {
    "read_stream-after_version": (
        "after_version",
        lambda s, v: first(s.read_stream(HUB, A, after_version=v)),
    ),
    "read_stream-before_version": (
        "before_version",
        lambda s, v: first(s.read_stream(HUB, A, before_version=v)),
    ),
    "read_stream-limit": ("limit", lambda s, v: first(s.read_stream(HUB, A, limit=v))),
    "read_log-after": ("after", lambda s, v: first(s.read_log(HUB, after=v))),
    "read_log-limit": ("limit", lambda s, v: first(s.read_log(HUB, limit=v))),
    "subscribe-after": ("after", lambda s, v: first(s.subscribe(HUB, after=v))),
    "delete_metric_samples-through_version": (
        "through_version",
        lambda s, v: s.delete_metric_samples(HUB, M, through_version=v),
    ),
}
NONE_MEANS_UNBOUNDED = {"read_stream-before_version", "read_stream-limit", "read_log-limit"}

BAD_INTS = [
    pytest.param(-1, id="negative"),
    pytest.param(2**63, id="beyond-64-bits"),
    pytest.param("3", id="a-str"),
    pytest.param(1.0, id="a-float"),
    pytest.param(True, id="a-bool"),
    pytest.param(False, id="false"),
]


@pytest.mark.parametrize("argument", BY_POSITION)
@pytest.mark.parametrize("value", BAD_INTS)
async def test_a_position_version_or_limit_out_of_range_is_refused_by_name(
    front: EventStore, argument: str, value: object
) -> None:
    name, call = BY_POSITION[argument]

    assert await refusal(call(front, value)) == (
        f"{name} must be an int in 0..2**63-1, got {value!r}"
    )


@pytest.mark.parametrize("argument", sorted(set(BY_POSITION) - NONE_MEANS_UNBOUNDED))
async def test_none_is_refused_where_it_does_not_mean_unbounded(
    front: EventStore, argument: str
) -> None:
    name, call = BY_POSITION[argument]

    assert await refusal(call(front, None)) == f"{name} must be an int in 0..2**63-1, got None"


async def test_the_smallest_positions_versions_and_limits_are_accepted(front: EventStore) -> None:
    await front.append(HUB, A, [registered(), checked()])
    await front.append(HUB, M, [sampled()])

    assert [e.version async for e in front.read_stream(HUB, A, after_version=0)] == [1, 2]
    assert [e async for e in front.read_stream(HUB, A, before_version=0)] == []
    assert [e async for e in front.read_stream(HUB, A, limit=0)] == []
    assert [e async for e in front.read_log(HUB, limit=0)] == []
    assert [e.position async for e in front.read_log(HUB, after=0)] == [1, 2, 3]
    assert await front.delete_metric_samples(HUB, M, through_version=0) == 0


# -- position_at ----------------------------------------------------------------


class _NoOffset(tzinfo):
    """A tzinfo whose utcoffset() is None: Python counts such a time as naive."""

    def utcoffset(self, dt: datetime | None) -> None:
        return None

    def tzname(self, dt: datetime | None) -> str:
        return "none"

    def dst(self, dt: datetime | None) -> None:
        return None


NO_OFFSET_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=_NoOffset())


@pytest.mark.parametrize(
    ("when", "shown"),
    [
        pytest.param(
            datetime(2026, 11, 1, 12, 0), "datetime.datetime(2026, 11, 1, 12, 0)", id="naive"
        ),
        pytest.param(date(2026, 11, 1), "datetime.date(2026, 11, 1)", id="a-date"),
        pytest.param("2026-11-01T12:00:00+00:00", "'2026-11-01T12:00:00+00:00'", id="a-str"),
        pytest.param(1.5e9, "1500000000.0", id="a-timestamp"),
        pytest.param(None, "None", id="none"),
        pytest.param(NO_OFFSET_TIME, repr(NO_OFFSET_TIME), id="a-tzinfo-without-an-offset"),
    ],
)
async def test_position_at_refuses_anything_but_an_aware_datetime(
    front: EventStore, when: object, shown: str
) -> None:
    assert await refusal(front.position_at(HUB, when)) == (  # type: ignore[arg-type]
        f"when must be a timezone-aware datetime, got {shown}"
    )


# -- delete_metric_samples ------------------------------------------------------


@pytest.mark.parametrize("stream", ["instance/a", "hub", "lock/metrics", "queue/reserve"])
async def test_only_metrics_streams_may_be_deleted_from(front: EventStore, stream: str) -> None:
    assert await refusal(front.delete_metric_samples(HUB, stream, through_version=1)) == (
        f"only metric samples may be deleted, not events of {stream!r}"
    )


async def test_the_stream_kind_is_checked_before_through_version(front: EventStore) -> None:
    assert await refusal(front.delete_metric_samples(HUB, A, through_version=-1)) == (
        "only metric samples may be deleted, not events of 'instance/a'"
    )


# -- append: expected_version and the batch -------------------------------------


@pytest.mark.parametrize(
    "expected",
    [
        pytest.param(-1, id="negative"),
        pytest.param(2**63, id="beyond-64-bits"),
        pytest.param("1", id="a-str"),
        pytest.param("ANY", id="the-name-of-any"),
        pytest.param(1.0, id="a-float"),
        pytest.param(True, id="a-bool"),
        pytest.param(None, id="none"),
    ],
)
async def test_a_bad_expected_version_is_refused_and_writes_nothing(
    front: EventStore, expected: object
) -> None:
    call = front.append(HUB, A, [registered()], expected_version=expected)  # type: ignore[arg-type]

    assert await refusal(call) == (
        f"expected_version must be ANY, NO_STREAM or a version in 0..2**63-1, got {expected!r}"
    )
    assert await nothing_written(front)


class Stray(Event, frozen=True, kw_only=True):
    """An event type no codec of the catalogue knows."""


KNOWN = ", ".join(sorted(DEFAULT_CODEC.types))


def _batch_refusals() -> list[Any]:
    lock_event = granted()
    twice = checked()
    cases: list[Any] = [
        pytest.param(
            A,
            lambda: registered(),
            {},
            InvalidEventError,
            "events must be a sequence of events, got InstanceRegistered",
            id="one-event-not-in-a-sequence",
        ),
        pytest.param(
            A,
            lambda: (e for e in [registered()]),
            {},
            InvalidEventError,
            "events must be a sequence of events, got generator",
            id="a-generator",
        ),
        pytest.param(
            A,
            lambda: None,
            {},
            InvalidEventError,
            "events must be a sequence of events, got NoneType",
            id="none",
        ),
        pytest.param(
            A,
            list,
            {},
            InvalidEventError,
            "empty batch for stream 'instance/a': nothing to append",
            id="an-empty-list",
        ),
        pytest.param(
            "hub",
            lambda: (),
            {},
            InvalidEventError,
            "empty batch for stream 'hub': nothing to append",
            id="an-empty-tuple",
        ),
        pytest.param(
            A,
            lambda: [registered(), object()],
            {},
            InvalidEventError,
            f"object is not an event type of this codec (known: {KNOWN})",
            id="not-an-event",
        ),
        pytest.param(
            A,
            lambda: [Stray()],
            {},
            InvalidEventError,
            f"Stray is not an event type of this codec (known: {KNOWN})",
            id="an-event-type-the-codec-lacks",
        ),
        pytest.param(
            "lock/gpu-0",
            lambda: [registered()],
            {},
            InvalidEventError,
            "InstanceRegistered belongs on a 'instance' stream, not on 'lock/gpu-0'",
            id="an-event-on-another-kind-of-stream",
        ),
        pytest.param(
            A,
            lambda: [checked(), lock_event],
            {},
            InvalidEventError,
            "LockGranted belongs on a 'lock' stream, not on 'instance/a'",
            id="the-second-event-on-the-wrong-stream",
        ),
        pytest.param(
            A,
            lambda: [twice, checked(), twice],
            {},
            DuplicateEventError,
            "the batch for stream 'instance/a' repeats an event id",
            id="a-repeated-event-id",
        ),
    ]
    for field in ("correlation_id", "causation_id"):
        cases += [
            pytest.param(
                A,
                lambda: [registered()],
                {field: 42},
                InvalidEventError,
                f"{field} must be a str or UUID, got int",
                id=f"{field}-not-a-str",
            ),
            pytest.param(
                A,
                lambda: [registered()],
                {field: ""},
                InvalidEventError,
                f"{field} must be 1..200 characters, got 0: ''",
                id=f"{field}-empty",
            ),
            pytest.param(
                A,
                lambda: [registered()],
                {field: "c" * 201},
                InvalidEventError,
                f"{field} must be 1..200 characters, got 201: {'c' * 40!r}",
                id=f"{field}-201-characters",
            ),
            pytest.param(
                A,
                lambda: [registered()],
                {field: "a\x00b"},
                InvalidEventError,
                f"{field} 'a\\x00b' contains characters the log refuses: ['\\x00']",
                id=f"{field}-nul",
            ),
        ]
    return cases


@pytest.mark.parametrize(("stream", "events", "kwargs", "error", "message"), _batch_refusals())
async def test_a_bad_batch_is_refused_with_its_reason_and_writes_nothing(
    front: EventStore,
    stream: str,
    events: Callable[[], Any],
    kwargs: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    assert await refusal(front.append(HUB, stream, events(), **kwargs), error) == message

    assert await nothing_written(front)


async def test_an_event_over_max_event_bytes_is_refused_naming_its_size_and_the_limit() -> None:
    event = registered()
    size = len(DEFAULT_CODEC.encode(event).data)
    store = MemoryEventStore(max_event_bytes=size - 1)

    assert await refusal(store.append(HUB, A, [checked(), event])) == (
        f"InstanceRegistered {event.event_id} is {size} bytes encoded; "
        f"the limit is {size - 1} (max_event_bytes)"
    )
    assert await nothing_written(store)


async def test_an_event_of_exactly_max_event_bytes_is_accepted() -> None:
    event = registered()
    store = MemoryEventStore(max_event_bytes=len(DEFAULT_CODEC.encode(event).data))

    assert (await store.append(HUB, A, [event])).version == 1


# -- a closed store ---------------------------------------------------------------


def _with_a_good_hub(call: Call) -> Callable[[EventStore], Awaitable[object]]:
    return lambda store: call(store, HUB)


AFTER_CLOSE: dict[str, Callable[[EventStore], Awaitable[object]]] = {
    **{method: _with_a_good_hub(call) for method, call in BY_HUB.items()},
    "hubs": lambda s: s.hubs(),
    "now": lambda s: s.now(),
    "open": lambda s: s.open(),
}


@pytest.mark.parametrize("method", AFTER_CLOSE)
async def test_every_method_of_a_closed_store_says_so(front: EventStore, method: str) -> None:
    await front.close()

    assert await refusal(AFTER_CLOSE[method](front), StoreClosed) == "MemoryEventStore is closed"


# -- on every backend: what the backend itself decides ---------------------------

POOL = "pool-7"
B = "instance/b"


@pytest.mark.parametrize(
    ("stream", "expected", "actual", "shown"),
    [
        pytest.param(A, 1, 2, "1", id="behind"),
        pytest.param(A, 3, 2, "3", id="ahead"),
        pytest.param(A, NO_STREAM, 2, "NO_STREAM", id="no-stream-but-it-exists"),
        pytest.param(A, MAX, 2, "9223372036854775807", id="the-largest-version"),
        pytest.param(B, 1, 0, "1", id="a-stream-with-no-events"),
    ],
)
async def test_wrong_expected_version_carries_hub_stream_expected_and_actual(
    store: EventStore, stream: str, expected: int | ExpectedVersion, actual: int, shown: str
) -> None:
    await store.append(POOL, A, [registered(), checked()])

    with pytest.raises(WrongExpectedVersion) as caught:
        await store.append(POOL, stream, [checked()], expected_version=expected)

    error = caught.value
    assert (error.hub_id, error.stream, error.expected, error.actual) == (
        POOL,
        stream,
        expected,
        actual,
    )
    assert type(error.actual) is int
    assert str(error) == (
        f"Wrong expected version: {shown} "
        f"(Hub: {POOL}, Stream: {stream}, Expected: {shown}, Actual: {actual})"
    )
    assert await store.head(POOL) == 2
    assert await store.stream_version(POOL, stream) == actual


async def test_the_largest_positions_versions_and_limits_are_accepted(store: EventStore) -> None:
    await store.append(HUB, A, [registered(), checked()])
    await store.append(HUB, M, [sampled(), sampled()])

    assert [e.version async for e in store.read_stream(HUB, A, before_version=MAX)] == [1, 2]
    assert [e.version async for e in store.read_stream(HUB, A, limit=MAX)] == [1, 2]
    assert [
        e.version async for e in store.read_stream(HUB, A, before_version=MAX, backwards=True)
    ] == [2, 1]
    assert [e.position async for e in store.read_log(HUB, limit=MAX)] == [1, 2, 3, 4]
    assert await store.delete_metric_samples(HUB, M, through_version=MAX) == 2
    assert await store.stream_version(HUB, M) == 2
    assert await store.head(HUB) == 4
