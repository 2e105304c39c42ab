"""Secrets never print: a password in the URL's userinfo or in any secret
query option (``password``, ``sslpassword``, …) is masked in every message,
chained traceback, repr and settings object."""

from __future__ import annotations

import traceback

import pytest

from adapters import open_store
from adapters.redis import RedisSettings
from adapters.sql import SQLSettings, create_engine
from adapters.stores import create_store
from adapters.urls import redact
from eventstore import BackendUnavailable, StoreConfigurationError

pytestmark = pytest.mark.anyio

SECRET = "hunter2-s3cret"
OTHER = "other-s3cret"
UNREACHABLE = [
    f"postgresql://hublog:{SECRET}@127.0.0.1:1/db?connect_timeout=2&password={OTHER}",
    f"redis://:{SECRET}@127.0.0.1:1/0?password={OTHER}&retries=0",
]
MALFORMED = [
    f"mysql://root:{SECRET}@db/x?password={OTHER}",  # unknown scheme
    f"postgresql://u:{SECRET}@db/x?pool_size=many&password={OTHER}",  # bad option
    f"redis://u:{SECRET}@db/0?retries=-1&password={OTHER}",  # bad option
    f"sqlite:///x.db?synchronous=sometimes&password={OTHER}",  # bad option
]


def printed(exc: BaseException) -> str:
    """Everything a traceback of ``exc`` shows, causes included."""
    return "".join(traceback.format_exception(exc))


def assert_no_secret(text: str) -> None:
    assert SECRET not in text
    assert OTHER not in text


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:{SECRET}@db/g?sslpassword={OTHER}",
        f"redis://:{SECRET}@h:6379/0?password={OTHER}",
        f"redis://h/0?auth_token={OTHER}&key_prefix=x",
        f"postgresql://u:{SECRET}@db/g?PASSWORD={OTHER}&sslmode=require",
    ],
)
def test_redact_masks_the_userinfo_and_every_secret_option(url: str) -> None:
    masked = redact(url)

    assert_no_secret(masked)
    assert "***" in masked


def test_redact_of_an_unparsable_url_echoes_nothing() -> None:
    assert redact(f"http://u:{SECRET}@[::1") == "<unparsable URL>"


def test_an_unparsable_redis_url_is_refused_saying_why_without_echoing_it() -> None:
    with pytest.raises(StoreConfigurationError) as caught:
        RedisSettings.from_url(f"redis://:{SECRET}@[::1:6379/0")

    assert str(caught.value) == "'<unparsable URL>' is not a valid URL: Invalid IPv6 URL"


@pytest.mark.parametrize("url", MALFORMED)
def test_configuration_errors_never_show_a_secret(url: str) -> None:
    with pytest.raises(StoreConfigurationError) as caught:
        create_store(url)

    assert_no_secret(printed(caught.value))


@pytest.mark.parametrize("url", UNREACHABLE, ids=["postgresql", "redis"])
async def test_an_unreachable_backend_never_shows_a_secret(url: str) -> None:
    with pytest.raises(BackendUnavailable) as caught:
        await open_store(url)

    assert_no_secret(printed(caught.value))


@pytest.mark.parametrize("url", UNREACHABLE, ids=["postgresql", "redis"])
async def test_stores_and_their_settings_print_no_secret(url: str) -> None:
    store = create_store(url)
    try:
        assert_no_secret(repr(store.settings))  # type: ignore[attr-defined]
        assert_no_secret(str(store.where))  # type: ignore[attr-defined]
        assert_no_secret(repr(vars(store)))
    finally:
        await store.close()


def test_the_engine_holds_no_secret_in_its_url() -> None:
    engine = create_engine(UNREACHABLE[0])

    assert_no_secret(repr(engine))
    assert_no_secret(str(engine.url))
    engine.dispose()


def test_settings_reprs_hide_the_url() -> None:
    assert_no_secret(repr(SQLSettings.from_url(UNREACHABLE[0])))
    assert_no_secret(repr(RedisSettings.from_url(UNREACHABLE[1])))
