"""``SQLSettings`` and ``RedisSettings``: every option each accepts, from the
URL's query and as a keyword (which wins), its parsed value, and the exact
message for a bad one, naming the option, the value, what it must be and
where (the URL, password redacted).  Building settings connects to nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from adapters.redis import RedisSettings
from adapters.sql import SQLSettings, sqlalchemy_url
from adapters.stores import parse
from eventstore import StoreConfigurationError

PG = "postgresql://hublog:s3cret@db:5432/g"
PG_SHOWN = "postgresql://hublog:***@db:5432/g"
SQLITE = "sqlite:///hub.db"
SQL_URLS = [(PG, PG_SHOWN), (SQLITE, SQLITE)]
REDIS = "redis://:s3cret@cache:6379/0"
REDIS_SHOWN = "redis://:***@cache:6379/0"
CLIENT = "a redis.Redis at cache:6379"  # what for_client is told, as RedisEventStore does


def refused(call: Any, *args: Any, **kwargs: Any) -> str:
    """The message of the StoreConfigurationError ``call(*args, **kwargs)`` raises."""
    with pytest.raises(StoreConfigurationError) as caught:
        call(*args, **kwargs)
    assert type(caught.value) is StoreConfigurationError
    return str(caught.value)


def with_query(url: str, query: str) -> str:
    return f"{url}?{query}"


# == SQL ======================================================================


def test_sql_defaults() -> None:
    settings = SQLSettings.from_url(PG)

    assert settings == SQLSettings(
        url=PG,
        dialect="postgresql",
        synchronous="full",
        poll_interval=1.0,
        change_check_interval=0.005,
        listen=True,
        pool_size=10,
        auto_migrate=False,
        max_event_bytes=None,
    )
    assert SQLSettings.from_url(SQLITE).dialect == "sqlite"


SQL_ACCEPTED = [
    ("synchronous", "off", "off"),
    ("synchronous", "NORMAL", "normal"),
    ("synchronous", "%20Full%20", "full"),
    ("synchronous", "extra", "extra"),
    ("poll_interval", "0.5", 0.5),
    ("poll_interval", "2", 2.0),
    ("poll_interval", "0.001", 0.001),
    ("change_check_interval", "0", 0.0),  # 0: the check off
    ("change_check_interval", "0.25", 0.25),
    ("listen", "false", False),
    ("listen", "ON", True),
    ("listen", "0", False),
    ("pool_size", "1", 1),  # the minimum
    ("pool_size", "20", 20),
]


@pytest.mark.parametrize(("url", "shown"), SQL_URLS, ids=["postgresql", "sqlite"])
@pytest.mark.parametrize(("name", "text", "parsed"), SQL_ACCEPTED)
def test_each_sql_url_option_is_read_from_the_query(
    url: str, shown: str, name: str, text: str, parsed: object
) -> None:
    settings = SQLSettings.from_url(with_query(url, f"{name}={text}"))

    assert getattr(settings, name) == parsed
    assert type(getattr(settings, name)) is type(parsed)


SQL_KEYWORDS_ACCEPTED = [
    ("synchronous", "Normal", "normal"),
    ("poll_interval", 0.25, 0.25),
    ("poll_interval", 3, 3.0),
    ("change_check_interval", 0, 0.0),
    ("listen", False, False),
    ("listen", "yes", True),
    ("pool_size", 1, 1),
    ("pool_size", "4", 4),
    ("auto_migrate", True, True),
    ("auto_migrate", "off", False),
    ("max_event_bytes", 1, 1),  # the minimum
    ("max_event_bytes", "1000", 1000),
]


@pytest.mark.parametrize(("name", "value", "parsed"), SQL_KEYWORDS_ACCEPTED)
def test_each_sql_option_may_be_a_keyword(name: str, value: object, parsed: object) -> None:
    settings = SQLSettings.from_url(PG, **{name: value})

    assert getattr(settings, name) == parsed
    assert type(getattr(settings, name)) is type(parsed)


SQL_WINNERS = [
    ("synchronous", "off", "extra", "extra"),
    ("poll_interval", "0.5", 2, 2.0),
    ("change_check_interval", "0.5", 0, 0.0),
    ("listen", "false", True, True),
    ("pool_size", "3", 7, 7),
]


@pytest.mark.parametrize(("name", "in_url", "keyword", "parsed"), SQL_WINNERS)
def test_a_sql_keyword_wins_over_the_url_and_none_means_not_given(
    name: str, in_url: str, keyword: object, parsed: object
) -> None:
    url = with_query(PG, f"{name}={in_url}")

    assert getattr(SQLSettings.from_url(url, **{name: keyword}), name) == parsed
    assert getattr(SQLSettings.from_url(url, **{name: None}), name) == getattr(
        SQLSettings.from_url(url), name
    )


SQL_REFUSED = [
    ("synchronous", "sometimes", "must be one of off, normal, full, extra"),
    ("synchronous", "", "must be one of off, normal, full, extra"),
    ("poll_interval", "0", "must be > 0"),
    ("poll_interval", "0.0", "must be > 0"),
    ("poll_interval", "-1", "must be at least 0.0"),
    ("poll_interval", "soon", "is not a number"),
    ("poll_interval", "", "is not a number"),
    ("poll_interval", "inf", "is not a finite number"),
    ("change_check_interval", "-0.1", "must be at least 0.0"),
    ("change_check_interval", "often", "is not a number"),
    ("change_check_interval", "nan", "is not a finite number"),
    ("listen", "maybe", "is not a boolean (true or false)"),
    ("listen", "", "is not a boolean (true or false)"),
    ("pool_size", "0", "must be at least 1"),
    ("pool_size", "many", "is not a whole number"),
    ("pool_size", "1.5", "is not a whole number"),
    ("pool_size", "", "is not a whole number"),
]


@pytest.mark.parametrize(("url", "shown"), SQL_URLS, ids=["postgresql", "sqlite"])
@pytest.mark.parametrize(("name", "text", "must"), SQL_REFUSED)
def test_a_bad_sql_url_option_is_refused_naming_it_and_the_redacted_url(
    url: str, shown: str, name: str, text: str, must: str
) -> None:
    query = f"{name}={text}&password=other"

    assert refused(SQLSettings.from_url, with_query(url, query)) == (
        f"option {name}={text!r} {must} (in {with_query(shown, f'{name}={text}&password=***')!r})"
    )


SQL_KEYWORDS_REFUSED = [
    ("synchronous", "sometimes", "must be one of off, normal, full, extra"),
    ("synchronous", 1, "must be one of off, normal, full, extra"),
    ("poll_interval", 0, "must be > 0"),
    ("poll_interval", 0.0, "must be > 0"),
    ("poll_interval", -1, "must be at least 0.0"),
    ("poll_interval", "soon", "is not a number"),
    ("poll_interval", True, "is not a number"),
    ("change_check_interval", -0.5, "must be at least 0.0"),
    ("listen", "maybe", "is not a boolean (true or false)"),
    ("listen", 2, "is not a boolean (true or false)"),
    ("pool_size", 0, "must be at least 1"),
    ("pool_size", 1.5, "is not a whole number"),
    ("auto_migrate", "maybe", "is not a boolean (true or false)"),
    ("max_event_bytes", 0, "must be at least 1"),
    ("max_event_bytes", "big", "is not a whole number"),
    ("max_event_bytes", True, "is not a whole number"),
]


@pytest.mark.parametrize(("name", "value", "must"), SQL_KEYWORDS_REFUSED)
def test_a_bad_sql_keyword_is_refused_naming_it_and_the_redacted_url(
    name: str, value: object, must: str
) -> None:
    assert refused(SQLSettings.from_url, PG, **{name: value}) == (
        f"option {name}={value!r} {must} (in {PG_SHOWN!r})"
    )


def test_a_bad_keyword_is_refused_even_when_the_url_has_a_good_value() -> None:
    assert refused(SQLSettings.from_url, with_query(PG, "poll_interval=1"), poll_interval=0) == (
        f"option poll_interval=0 must be > 0 (in {PG_SHOWN + '?poll_interval=1'!r})"
    )


def test_an_unknown_sql_keyword_is_refused_naming_it_and_the_known_ones() -> None:
    assert refused(SQLSettings.from_url, PG, sslmode="require", bogus=1, listen=None) == (
        f"unknown option(s) bogus, sslmode for {PG_SHOWN!r}; known: auto_migrate, "
        "change_check_interval, create, listen, max_event_bytes, poll_interval, pool_size, "
        "read_only, synchronous"
    )


def test_keyword_only_sql_options_in_the_query_are_refused_as_keyword_arguments() -> None:
    # Before: read by hublog *and* handed to psycopg ("invalid connection option");
    # then handed to psycopg only, failing at connect; now refused at once.
    message = refused(SQLSettings.from_url, with_query(PG, "max_event_bytes=5&auto_migrate=true"))

    assert message.startswith(
        f"unknown option(s) auto_migrate, max_event_bytes in {PG_SHOWN + '?max_event_bytes=5&auto_migrate=true'!r}"
        " (auto_migrate, max_event_bytes: keyword arguments of open_store, not URL options); known: "
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@h/0", "redis://:***@h/0"),
        ("memory://", "memory://"),
        ("redis+cluster://u:s3cret@h:7000?password=p", "redis+cluster://u:***@h:7000?password=***"),
    ],
)
def test_a_non_sql_url_is_refused_by_the_sql_settings(url: str, shown: str) -> None:
    message = f"{shown!r} is not an SQL store URL"

    assert refused(SQLSettings.from_url, url) == message
    assert refused(SQLSettings.from_url, parse(url)) == message
    assert refused(sqlalchemy_url, url) == message
    assert refused(sqlalchemy_url, parse(url)) == message


@pytest.mark.parametrize("given", [str, parse], ids=["string", "StoreURL"])
def test_sqlalchemy_url_of_postgresql_uses_psycopg_and_drops_only_hublogs_options(
    given: Any,
) -> None:
    url = with_query(
        PG,
        "synchronous=normal&poll_interval=0.5&change_check_interval=0&listen=false"
        "&pool_size=3&sslmode=require&application_name=hub",
    )

    sa_url = sqlalchemy_url(given(url))

    assert sa_url.drivername == "postgresql+psycopg"
    assert dict(sa_url.query) == {"sslmode": "require", "application_name": "hub"}
    assert (sa_url.username, sa_url.password, sa_url.host, sa_url.port, sa_url.database) == (
        "hublog",
        "s3cret",
        "db",
        5432,
        "g",
    )
    assert SQLSettings.from_url(given(url)).sqlalchemy_url() == sa_url


@pytest.mark.parametrize("given", [str, parse], ids=["string", "StoreURL"])
@pytest.mark.parametrize("scheme", ["sqlite", "sqlite+pysqlite", "SQLite"])
def test_sqlalchemy_url_of_sqlite_uses_the_standard_library_driver(given: Any, scheme: str) -> None:
    sa_url = sqlalchemy_url(given(f"{scheme}:///hub.db?synchronous=normal&timeout=3"))

    assert (sa_url.drivername, sa_url.database, dict(sa_url.query)) == (
        "sqlite+pysqlite",
        "hub.db",
        {"timeout": "3"},
    )


def test_sql_settings_from_a_parsed_url_are_those_from_the_string() -> None:
    url = with_query(PG, "pool_size=3&listen=no")

    assert SQLSettings.from_url(parse(url), poll_interval=2) == SQLSettings.from_url(
        url, poll_interval=2
    )


def test_sql_settings_repr_hides_the_password() -> None:
    assert repr(SQLSettings.from_url(with_query(PG, "password=p"), pool_size=2)) == (
        f"SQLSettings({PG_SHOWN + '?password=***'!r}, synchronous='full', poll_interval=1.0, "
        "change_check_interval=0.005, listen=True, pool_size=2, auto_migrate=False)"
    )


# == Redis ====================================================================


def test_redis_defaults() -> None:
    assert RedisSettings.from_url(REDIS) == RedisSettings(
        client_url=REDIS,
        where=REDIS_SHOWN,
        key_prefix="gleitzeit:hub",
        cluster=False,
        wait_for_aof=False,
        wait_for_aof_timeout=3.0,
        block_timeout=1.0,
        retries=3,
        socket_timeout=5.0,
        max_event_bytes=None,
    )


REDIS_ACCEPTED = [
    ("key_prefix", "x", "x"),
    ("key_prefix", "a:b%20c", "a:b c"),
    ("cluster", "true", True),
    ("cluster", "%20YES%20", True),
    ("cluster", "0", False),
    ("wait_for_aof", "on", True),
    ("wait_for_aof", "False", False),
    ("wait_for_aof_timeout", "0.001", 0.001),  # the minimum
    ("wait_for_aof_timeout", "2", 2.0),
    ("block_timeout", "0.001", 0.001),  # the minimum
    ("block_timeout", "4.5", 4.5),
    ("retries", "0", 0),  # the minimum: no retry
    ("retries", "7", 7),
]


@pytest.mark.parametrize(("name", "text", "parsed"), REDIS_ACCEPTED)
def test_each_redis_url_option_is_read_from_the_query_and_kept_from_redis_py(
    name: str, text: str, parsed: object
) -> None:
    settings = RedisSettings.from_url(with_query(REDIS, f"{name}={text}&client_name=hub"))

    assert getattr(settings, name) == parsed
    assert type(getattr(settings, name)) is type(parsed)
    assert settings.client_url == with_query(REDIS, "client_name=hub")


REDIS_KEYWORDS_ACCEPTED = [
    ("key_prefix", "mine", "mine"),
    ("cluster", True, True),
    ("cluster", "no", False),
    ("wait_for_aof", True, True),
    ("wait_for_aof_timeout", 0.001, 0.001),
    ("wait_for_aof_timeout", "2", 2.0),
    ("block_timeout", 4, 4.0),
    ("retries", 0, 0),
    ("retries", "5", 5),
    ("socket_timeout", 1.001, 1.001),  # just over block_timeout
    ("socket_timeout", "30", 30.0),
    ("max_event_bytes", 1, 1),  # the minimum
    ("max_event_bytes", "1000", 1000),
]


@pytest.mark.parametrize(("name", "value", "parsed"), REDIS_KEYWORDS_ACCEPTED)
def test_each_redis_option_may_be_a_keyword_for_a_url_or_a_client(
    name: str, value: object, parsed: object
) -> None:
    from_url = RedisSettings.from_url(REDIS, **{name: value})
    options: dict[str, Any] = {"cluster": False, name: value}  # cluster is for_client's own
    for_client = RedisSettings.for_client(CLIENT, **options)

    for settings in (from_url, for_client):
        assert getattr(settings, name) == parsed
        assert type(getattr(settings, name)) is type(parsed)


REDIS_WINNERS = [
    ("key_prefix", "a", "b", "b"),
    ("cluster", "true", False, False),
    ("wait_for_aof", "true", False, False),
    ("wait_for_aof_timeout", "2", 4, 4.0),
    ("block_timeout", "2", 3, 3.0),
    ("retries", "1", 0, 0),
]


@pytest.mark.parametrize(("name", "in_url", "keyword", "parsed"), REDIS_WINNERS)
def test_a_redis_keyword_wins_over_the_url_and_none_means_not_given(
    name: str, in_url: str, keyword: object, parsed: object
) -> None:
    url = with_query(REDIS, f"{name}={in_url}")

    assert getattr(RedisSettings.from_url(url, **{name: keyword}), name) == parsed
    assert getattr(RedisSettings.from_url(url, **{name: None}), name) == getattr(
        RedisSettings.from_url(url), name
    )


REDIS_REFUSED = [
    ("cluster", "maybe", "is not a boolean (true or false)"),
    ("cluster", "", "is not a boolean (true or false)"),  # a blank is not dropped
    ("wait_for_aof", "maybe", "is not a boolean (true or false)"),
    ("wait_for_aof", "", "is not a boolean (true or false)"),
    ("wait_for_aof_timeout", "0", "must be at least 0.001"),
    ("wait_for_aof_timeout", "long", "is not a number"),
    ("wait_for_aof_timeout", "inf", "is not a finite number"),
    ("block_timeout", "0.0009", "must be at least 0.001"),
    ("block_timeout", "soon", "is not a number"),
    ("block_timeout", "", "is not a number"),
    ("retries", "-1", "must be at least 0"),
    ("retries", "1.5", "is not a whole number"),
    ("retries", "", "is not a whole number"),
]


@pytest.mark.parametrize(("name", "text", "must"), REDIS_REFUSED)
def test_a_bad_redis_url_option_is_refused_naming_it_and_the_redacted_url(
    name: str, text: str, must: str
) -> None:
    url = with_query(REDIS, f"{name}={text}&password=other")
    shown = with_query(REDIS_SHOWN, f"{name}={text}&password=***")

    assert refused(RedisSettings.from_url, url) == f"option {name}={text!r} {must} (in {shown!r})"
    assert refused(RedisSettings.from_url, parse(url)) == (
        f"option {name}={text!r} {must} (in {shown!r})"
    )


REDIS_KEYWORDS_REFUSED = [
    ("cluster", "maybe", "is not a boolean (true or false)"),
    ("wait_for_aof", 2, "is not a boolean (true or false)"),
    ("wait_for_aof_timeout", 0, "must be at least 0.001"),
    ("block_timeout", True, "is not a number"),
    ("block_timeout", -1.0, "must be at least 0.001"),
    ("retries", -1, "must be at least 0"),
    ("retries", 2.5, "is not a whole number"),  # not silently 2
    ("socket_timeout", 0, "must be at least 0.001"),
    ("socket_timeout", "slow", "is not a number"),
    ("socket_timeout", float("inf"), "is not a finite number"),  # not a raw OverflowError
    ("max_event_bytes", 0, "must be at least 1"),
    ("max_event_bytes", 1.5, "is not a whole number"),
]


@pytest.mark.parametrize(("name", "value", "must"), REDIS_KEYWORDS_REFUSED)
def test_a_bad_redis_keyword_is_refused_naming_it_and_where(
    name: str, value: object, must: str
) -> None:
    assert refused(RedisSettings.from_url, REDIS, **{name: value}) == (
        f"option {name}={value!r} {must} (in {REDIS_SHOWN!r})"
    )
    options: dict[str, Any] = {"cluster": False, name: value}
    assert refused(RedisSettings.for_client, CLIENT, **options) == (
        f"option {name}={value!r} {must} (in {CLIENT!r})"
    )


@pytest.mark.parametrize(
    ("prefix", "problem"),
    [
        ("", "key_prefix must be a non-empty string, got ''"),
        (
            "{x}",
            (
                "key_prefix '{x}' contains a brace; braces would make it the Redis Cluster hash "
                "tag instead of the hub id"
            ),
        ),
    ],
)
def test_a_bad_key_prefix_is_refused_naming_where(prefix: str, problem: str) -> None:
    url = with_query(REDIS, f"key_prefix={prefix}")
    shown = f"{REDIS_SHOWN}?key_prefix={prefix}"

    assert refused(RedisSettings.from_url, url) == f"{problem} (in {shown!r})"
    assert refused(RedisSettings.from_url, REDIS, key_prefix=prefix) == (
        f"{problem} (in {REDIS_SHOWN!r})"
    )
    assert refused(RedisSettings.for_client, CLIENT, cluster=False, key_prefix=prefix) == (
        f"{problem} (in {CLIENT!r})"
    )


@pytest.mark.parametrize(
    ("options", "waits"),
    [
        ({"block_timeout": 5}, "block_timeout (5.0s)"),
        ({"block_timeout": 2, "socket_timeout": 2}, "block_timeout (2.0s)"),
        ({"wait_for_aof": True, "wait_for_aof_timeout": 6}, "wait_for_aof_timeout (6.0s)"),
    ],
)
def test_the_socket_timeout_must_exceed_every_wait(options: dict[str, Any], waits: str) -> None:
    socket = float(options.get("socket_timeout", 5.0))
    must = (
        f"socket_timeout ({socket}s) must exceed {waits}, "
        "or the socket would time out before Redis answers"
    )

    assert refused(RedisSettings.from_url, REDIS, **options) == f"{must} (in {REDIS_SHOWN!r})"
    assert refused(RedisSettings.for_client, CLIENT, cluster=False, **options) == (
        f"{must} (in {CLIENT!r})"
    )


def test_the_aof_wait_is_not_checked_while_wait_for_aof_is_off() -> None:
    settings = RedisSettings.from_url(REDIS, wait_for_aof_timeout=9, block_timeout=4.999)

    assert (settings.wait_for_aof_timeout, settings.block_timeout) == (9.0, 4.999)


REDIS_KNOWN = (
    "block_timeout, cluster, key_prefix, max_event_bytes, retries, socket_timeout, "
    "wait_for_aof, wait_for_aof_timeout"
)


def test_an_unknown_redis_keyword_is_refused_naming_it_and_where() -> None:
    assert refused(RedisSettings.from_url, REDIS, client_name="x", bogus=1) == (
        f"unknown option(s) bogus, client_name for {REDIS_SHOWN!r}; known: {REDIS_KNOWN}"
    )
    assert refused(RedisSettings.for_client, CLIENT, cluster=True, bogus=1) == (
        f"unknown option(s) bogus for {CLIENT!r}; known: {REDIS_KNOWN}"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:s3cret@db/g", "postgresql://u:***@db/g"),
        ("memory://", "memory://"),
        ("http://:s3cret@cache:6379?password=p", "http://:***@cache:6379?password=***"),
    ],
)
def test_a_non_redis_url_is_refused_by_the_redis_settings(url: str, shown: str) -> None:
    assert refused(RedisSettings.from_url, url) == f"{shown!r} is not a Redis store URL"


@pytest.mark.parametrize(
    ("url", "client_url"),
    [
        ("redis://:s3cret@h:6379/0", "redis://:s3cret@h:6379/0"),
        (
            "rediss://:s3cret@h:6380/2?ssl_cert_reqs=none",
            "rediss://:s3cret@h:6380/2?ssl_cert_reqs=none",
        ),
        (
            # hublog's options out, redis-py's (blank ones too) left in, in order
            "redis://h/0?key_prefix=x&client_name=&socket_timeout=7&retries=1&password=p",
            "redis://h/0?client_name=&password=p",
        ),
    ],
)
def test_redis_py_gets_the_url_without_hublogs_options(url: str, client_url: str) -> None:
    assert RedisSettings.from_url(url).client_url == client_url


@pytest.mark.parametrize(
    ("url", "client_url"),
    [
        ("redis+cluster://:s3cret@h:7000", "redis://:s3cret@h:7000"),
        ("rediss+cluster://h:7000?key_prefix=x&client_name=c", "rediss://h:7000?client_name=c"),
        ("REDIS+CLUSTER://h:7000", "redis://h:7000"),
        ("redis+cluster://h:7000?cluster=true", "redis://h:7000"),
        ("redis://h:7000?cluster=true", "redis://h:7000"),
        ("rediss://h:7000?cluster=1", "rediss://h:7000"),
    ],
)
def test_a_cluster_is_named_by_the_scheme_or_by_cluster_true(url: str, client_url: str) -> None:
    settings = RedisSettings.from_url(url)

    assert (settings.cluster, settings.client_url) == (True, client_url)


@pytest.mark.parametrize(
    ("url", "options", "value"),
    [
        ("redis+cluster://:s3cret@h:7000?cluster=false", {}, "'false'"),
        ("redis+cluster://:s3cret@h:7000", {"cluster": False}, "False"),
        ("rediss+cluster://:s3cret@h:7000?cluster=true", {"cluster": "no"}, "'no'"),
    ],
)
def test_a_cluster_scheme_refuses_cluster_false(
    url: str, options: dict[str, Any], value: str
) -> None:
    scheme = url.split(":", 1)[0]
    shown = url.replace(":s3cret@", ":***@")

    assert refused(RedisSettings.from_url, url, **options) == (
        f"option cluster={value} contradicts the {scheme}:// scheme (in {shown!r})"
    )


def test_a_cluster_scheme_refuses_a_cluster_option_that_is_not_a_boolean() -> None:
    # Before: the scheme's True replaced "maybe" unchecked.
    assert refused(RedisSettings.from_url, "redis+cluster://h:7000?cluster=maybe") == (
        "option cluster='maybe' is not a boolean (true or false) "
        "(in 'redis+cluster://h:7000?cluster=maybe')"
    )


def test_settings_for_a_client_take_its_kind_and_its_description() -> None:
    assert RedisSettings.for_client(CLIENT, cluster=True) == RedisSettings(
        client_url=None, where=CLIENT, cluster=True
    )
    assert RedisSettings.for_client(CLIENT, cluster=False).cluster is False


def test_redis_settings_from_a_parsed_url_are_those_from_the_string() -> None:
    url = with_query(REDIS, "retries=1&key_prefix=p&client_name=c")

    assert RedisSettings.from_url(parse(url), block_timeout=2) == RedisSettings.from_url(
        url, block_timeout=2
    )


def test_redis_settings_repr_hides_the_password() -> None:
    text = repr(RedisSettings.from_url(with_query(REDIS, "password=p")))

    assert "s3cret" not in text
    assert text.startswith(f"RedisSettings(where={REDIS_SHOWN + '?password=***'!r}, ")


@pytest.mark.parametrize("given", [str, parse], ids=["string", "StoreURL"])
def test_a_port_that_is_not_a_number_is_a_configuration_error_not_a_raw_one(given: Any) -> None:
    # Before: a raw ValueError from SQLAlchemy's make_url.
    url = "postgresql://hublog:s3cret@db:abc/g"
    message = "malformed store URL 'postgresql://hublog:***@db:abc/g'"

    assert refused(sqlalchemy_url, given(url)) == message
    assert refused(SQLSettings.from_url(given(url)).sqlalchemy_url) == message


@pytest.mark.parametrize("path", ["X", "XX/X.db", "/X"])
def test_a_sqlite_file_of_any_name_is_a_file(path: str) -> None:
    assert sqlalchemy_url(f"sqlite:///{path}").database == path


def test_settings_made_directly_have_the_documented_defaults() -> None:
    redis_settings = RedisSettings()
    sql_settings = SQLSettings(url=SQLITE, dialect="sqlite")

    assert (redis_settings.client_url, redis_settings.where, redis_settings.cluster) == (
        None,
        "a Redis client",
        False,
    )
    assert (redis_settings.key_prefix, redis_settings.wait_for_aof) == ("gleitzeit:hub", False)
    assert (redis_settings.wait_for_aof_timeout, redis_settings.block_timeout) == (3.0, 1.0)
    assert (redis_settings.retries, redis_settings.socket_timeout) == (3, 5.0)
    assert redis_settings.max_event_bytes is None
    assert SQLSettings.from_url(SQLITE) == sql_settings


# == unknown URL options, every backend ==========================================


@pytest.mark.parametrize(
    ("url", "wrong", "meant"),
    [
        ("sqlite:///hub.db?synchronus=full", "synchronus", "synchronous"),
        ("postgresql://hublog:s3cret@db:5432/g?sslmod=require", "sslmod", "sslmode"),
        ("redis://:s3cret@cache:6379/0?key_prefx=x", "key_prefx", "key_prefix"),
        ("redis+cluster://:s3cret@cache:7000?socket_timout=3", "socket_timout", "socket_timeout"),
        ("memory://?wait=1", "wait", None),
    ],
    ids=["sqlite", "postgresql", "redis", "redis-cluster", "memory"],
)
def test_a_misspelled_url_option_is_refused_on_every_backend_listing_the_known_ones(
    url: str, wrong: str, meant: str | None
) -> None:
    from adapters.stores import create_store

    message = refused(create_store, url)

    assert wrong in message and "s3cret" not in message
    if meant is not None:
        assert f"unknown option(s) {wrong}" in message
        assert f"did you mean {meant}?" in message and "known:" in message
