"""The memory backend's own: its clock hook (a clock that goes backwards),
its refusal of URL options, and the codec ``open_store`` hands it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from msgspec.structs import replace

from adapters import open_store
from adapters.memory import MemoryEventStore
from eventstore import (
    CATALOGUE,
    DEFAULT_CODEC,
    Codec,
    Event,
    InvalidEventError,
    StoreConfigurationError,
)
from tests import backends
from tests.eventstore.contract.factories import checks, registered

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"
T = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


anyio_backend = backends.asyncio_and_trio


async def test_a_clock_that_goes_backwards_never_records_before_the_hubs_last_event() -> None:
    clock = [T]
    store = MemoryEventStore(clock=lambda: clock[0])
    await store.append(HUB, A, [registered()])
    clock[0] = T - timedelta(minutes=5)  # NTP stepped the clock back
    await store.append(HUB, A, checks(2))
    await store.append("other-hub", A, [registered()])  # another hub has no past to keep to
    clock[0] = T + timedelta(seconds=1)  # and forward again
    await store.append(HUB, A, checks(1))

    assert [(e.position, e.recorded_at) async for e in store.read_log(HUB)] == [
        (1, T),
        (2, T),
        (3, T),
        (4, T + timedelta(seconds=1)),
    ]
    [other] = [e async for e in store.read_log("other-hub")]
    assert other.recorded_at == T - timedelta(minutes=5)
    assert await store.position_at(HUB, T) == 3
    assert await store.position_at(HUB, T - timedelta(minutes=1)) == 0


@pytest.mark.parametrize(
    ("url", "named"),
    [
        pytest.param("memory://?x=1", "x", id="one-option"),
        pytest.param("memory://?zeta=1&alpha=&mid=2", "alpha, mid, zeta", id="options-sorted"),
    ],
)
def test_memory_urls_take_no_options_and_the_refusal_names_them_sorted(
    url: str, named: str
) -> None:
    with pytest.raises(StoreConfigurationError) as caught:
        open_store(url)

    assert type(caught.value) is StoreConfigurationError
    assert str(caught.value) == f"memory:// takes no options, got {named}"


class Noted(Event, frozen=True, kw_only=True):
    """A type only the custom codec below knows (any stream may hold it)."""

    text: str


async def test_the_codec_given_to_open_store_is_the_one_the_store_uses() -> None:
    codec = Codec([*CATALOGUE, Noted])
    note = Noted(text="only this codec knows me")

    async with open_store("memory://", codec=codec) as store:
        assert store.codec is codec
        await store.append(HUB, "hub", [note])
        [recorded] = [e async for e in store.read_log(HUB)]

    assert recorded.event == note
    assert recorded.type == "Noted"


async def test_without_a_codec_the_store_uses_the_default_one() -> None:
    async with open_store("memory://") as store:
        assert store.codec is DEFAULT_CODEC


async def test_the_max_event_bytes_given_to_open_store_is_the_limit_the_store_keeps() -> None:
    codec = Codec([*CATALOGUE, Noted])
    async with open_store("memory://", codec=codec, max_event_bytes=64) as store:
        assert store.max_event_bytes == 64
        with pytest.raises(InvalidEventError, match=r"the limit is 64 \(max_event_bytes\)"):
            await store.append(HUB, "hub", [Noted(text="x" * 100)])
        assert await store.head(HUB) == 0


async def test_an_imported_time_is_kept_in_utc_whatever_the_local_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # astimezone() without a zone would convert to the machine's zone: on a
    # UTC machine the two agree, so the test runs under another one.
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        source = MemoryEventStore()
        await source.append(HUB, A, [registered()])
        [stored] = await source._read_log_page(HUB, after=0, limit=10)
        local = replace(
            stored, recorded_at=stored.recorded_at.astimezone(timezone(timedelta(hours=2)))
        )

        copy = MemoryEventStore()
        assert await copy.import_events(HUB, [local]) == 1
        [back] = [e async for e in copy.read_log(HUB)]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()

    assert back.recorded_at == stored.recorded_at
    assert back.recorded_at.utcoffset() == timedelta(0)


def test_an_unknown_keyword_option_is_a_hublog_error_listing_the_known_ones() -> None:
    from eventstore import StoreConfigurationError

    with pytest.raises(
        StoreConfigurationError, match="unknown option\\(s\\) bogus for 'memory://'"
    ):
        open_store("memory://", bogus=1)
