"""Store URLs: which backend, what the driver gets, and no password in any message."""

from __future__ import annotations

import pytest

from adapters import open_store
from adapters.sql import SQLSettings, sqlalchemy_url
from adapters.stores import parse
from adapters.urls import redact
from eventstore import StoreConfigurationError


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("memory://", "memory"),
        ("sqlite:///hublog.db", "sqlite"),
        ("sqlite:////var/lib/hublog.db", "sqlite"),
        ("postgresql://u@db/gleitzeit", "postgresql"),
        ("postgres://u@db/gleitzeit", "postgresql"),
        ("postgresql+psycopg://u@db/gleitzeit", "postgresql"),
        ("redis://localhost:6379/0", "redis"),
        ("rediss://localhost:6380", "redis"),
    ],
)
def test_each_scheme_names_its_backend(url: str, backend: str) -> None:
    assert parse(url).backend == backend


def test_postgresql_urls_use_psycopg_and_keep_driver_options() -> None:
    url = sqlalchemy_url("postgresql://u:pw@db:5433/g?options=-csearch_path%3Dx&poll_interval=0.5")

    assert url.drivername == "postgresql+psycopg"
    assert url.query == {"options": "-csearch_path=x"}
    assert (url.host, url.port, url.database, url.password) == ("db", 5433, "g", "pw")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "mysql://root:hunter2@db/x",
            "unknown store URL scheme 'mysql' in 'mysql://root:***@db/x'",
        ),
        ("sqlite://", "names no file"),
        ("", "non-empty string"),
        ("http://[::1", "malformed store URL"),
    ],
)
def test_bad_urls_are_refused_clearly(url: str, message: str) -> None:
    with pytest.raises(
        StoreConfigurationError, match=message.replace("*", r"\*").replace("(", r"\(")
    ):
        open_store(url)


@pytest.mark.parametrize(
    "url", ["sqlite:///", "sqlite:////", "sqlite:///?synchronous=normal", "sqlite:"]
)
def test_a_sqlite_url_with_an_empty_path_is_refused_naming_what_is_missing(url: str) -> None:
    hint = "names no file; use sqlite:///relative.db or sqlite:////absolute/path.db"
    for refuse in (open_store, SQLSettings.from_url, sqlalchemy_url):  # alembic's env too
        with pytest.raises(StoreConfigurationError) as caught:
            refuse(url)
        assert str(caught.value) == f"store URL {url!r} {hint}"


def test_redact_hides_only_the_password() -> None:
    assert (
        redact("postgresql://gleitzeit:s3cret@db:5432/g") == "postgresql://gleitzeit:***@db:5432/g"
    )
    assert redact("redis://localhost:6379") == "redis://localhost:6379"
