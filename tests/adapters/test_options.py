"""Reading one option, taking a store URL apart, and redacting it: the exact
values accepted and the exact messages for the rest.  No server needed.

The settings objects built on these are tested in ``test_settings_messages.py``.
"""

from __future__ import annotations

import math

import pytest

from adapters import options as opt
from adapters.memory import MemoryEventStore
from adapters.stores import BACKENDS, backend_package, create_store, parse, readmodel_store_for
from adapters.urls import StoreURL, is_secret_option, redact
from eventstore import StoreConfigurationError
from projections import ReadModelStore

WHERE = "postgresql://u:***@db/g"


def refused(call: object, *args: object, **kwargs: object) -> str:
    """The message of the StoreConfigurationError ``call(*args, **kwargs)`` raises."""
    with pytest.raises(StoreConfigurationError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    assert type(caught.value) is StoreConfigurationError
    return str(caught.value)


# -- refuse -------------------------------------------------------------------


def test_refuse_names_the_option_the_value_what_it_must_be_and_where() -> None:
    exc = opt.refuse("retries", "-1", WHERE, "must be at least 0")

    assert type(exc) is StoreConfigurationError
    assert str(exc) == f"option retries='-1' must be at least 0 (in {WHERE!r})"


def test_refuse_without_a_where_says_nothing_of_a_place() -> None:
    assert str(opt.refuse("retries", -1, "", "must be at least 0")) == (
        "option retries=-1 must be at least 0"
    )


# -- to_bool ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        (True, True),
        (False, False),
        ("1", True),
        ("true", True),
        ("YES", True),
        (" On ", True),
        ("0", False),
        ("False", False),
        ("no", False),
        ("\toff\n", False),
        (1, True),
        (0, False),
    ],
)
def test_to_bool_accepts_the_words_for_true_and_false_in_any_case(
    value: object, parsed: bool
) -> None:
    assert opt.to_bool("listen", value, WHERE) is parsed


@pytest.mark.parametrize("value", ["maybe", "", " ", "2", 2, "truee", None])
def test_to_bool_refuses_anything_else_naming_it(value: object) -> None:
    must = "is not a boolean (true or false)"

    assert refused(opt.to_bool, "listen", value, WHERE) == (
        f"option listen={value!r} {must} (in {WHERE!r})"
    )
    assert refused(opt.to_bool, "listen", value) == f"option listen={value!r} {must}"


# -- to_number ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "minimum", "parsed"),
    [
        ("0.5", float, 0.0, 0.5),
        ("0", float, 0.0, 0.0),  # the minimum itself
        (" 2 ", float, 0.0, 2.0),
        ("1e-3", float, 0.001, 0.001),
        (3, float, 0.0, 3.0),
        ("1", int, 1, 1),  # the minimum itself
        (" 20 ", int, 1, 20),
        (7, int, 0, 7),
        (2.0, int, 1, 2),  # a whole float
        (0, int, 0, 0),
    ],
)
def test_to_number_accepts_numbers_from_the_minimum_up(
    value: object, kind: type, minimum: float, parsed: float
) -> None:
    number = opt.to_number("n", value, minimum=minimum, where=WHERE, kind=kind)

    assert number == parsed
    assert type(number) is kind


@pytest.mark.parametrize(
    ("value", "kind", "minimum", "must"),
    [
        ("soon", float, 0.0, "is not a number"),
        ("", float, 0.0, "is not a number"),
        (None, float, 0.0, "is not a number"),
        (True, float, 0.0, "is not a number"),
        (False, int, 0, "is not a whole number"),
        ("many", int, 1, "is not a whole number"),
        ("", int, 1, "is not a whole number"),
        ("1.5", int, 1, "is not a whole number"),
        (1.5, int, 1, "is not a whole number"),  # not silently 1
        (math.inf, int, 1, "is not a whole number"),  # not a raw OverflowError
        ("nan", float, 0.0, "is not a finite number"),
        ("inf", float, 0.0, "is not a finite number"),
        (math.inf, float, 0.001, "is not a finite number"),
        ("-inf", float, 0.0, "is not a finite number"),
        ("-0.1", float, 0.0, "must be at least 0.0"),
        ("0.0009", float, 0.001, "must be at least 0.001"),
        (0, int, 1, "must be at least 1"),
        ("-1", int, 0, "must be at least 0"),
    ],
)
def test_to_number_refuses_non_numbers_and_numbers_below_the_minimum(
    value: object, kind: type, minimum: float, must: str
) -> None:
    assert refused(opt.to_number, "n", value, minimum=minimum, where=WHERE, kind=kind) == (
        f"option n={value!r} {must} (in {WHERE!r})"
    )
    assert refused(opt.to_number, "n", value, minimum=minimum, kind=kind) == (
        f"option n={value!r} {must}"
    )


# -- to_choice ----------------------------------------------------------------

CHOICES = ("off", "normal", "full")


@pytest.mark.parametrize(
    ("value", "parsed"), [("off", "off"), ("NORMAL", "normal"), (" Full\t", "full")]
)
def test_to_choice_accepts_a_choice_in_any_case_and_gives_it_lowered(
    value: str, parsed: str
) -> None:
    assert opt.to_choice("synchronous", value, CHOICES, WHERE) == parsed


@pytest.mark.parametrize("value", ["sometimes", "", "of f", 1])
def test_to_choice_refuses_anything_else_listing_the_choices(value: object) -> None:
    must = "must be one of off, normal, full"

    assert refused(opt.to_choice, "synchronous", value, CHOICES, WHERE) == (
        f"option synchronous={value!r} {must} (in {WHERE!r})"
    )
    assert refused(opt.to_choice, "synchronous", value, CHOICES) == (
        f"option synchronous={value!r} {must}"
    )


# -- merge --------------------------------------------------------------------

KNOWN = frozenset({"a", "b", "c"})


def test_merge_overlays_the_keywords_on_the_known_url_options() -> None:
    merged = opt.merge({"a": "1", "b": "2", "driver": "x"}, {"b": 3, "c": None}, KNOWN, WHERE)

    assert merged == {"a": "1", "b": 3}  # None is "not given"; "driver" is not hublog's


def test_merge_keeps_a_blank_url_option_for_the_caller_to_refuse() -> None:
    assert opt.merge({"a": ""}, {}, KNOWN, WHERE) == {"a": ""}


@pytest.mark.parametrize(
    ("given", "unknown"), [({"z": 1}, "z"), ({"z": 1, "y": None, "a": 1}, "y, z")]
)
def test_merge_refuses_unknown_keywords_naming_them_and_the_known_ones(
    given: dict[str, object], unknown: str
) -> None:
    assert refused(opt.merge, {}, given, KNOWN, WHERE) == (
        f"unknown option(s) {unknown} for {WHERE!r}; known: a, b, c"
    )


# -- redact -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:s3cret@db:5432/g", "postgresql://u:***@db:5432/g"),
        ("redis://:s3cret@h:6379/0", "redis://:***@h:6379/0"),
        ("postgresql://pw:pw@db/g", "postgresql://pw:***@db/g"),  # user == password
        ("postgresql://u:p%40ss@db/g", "postgresql://u:***@db/g"),
        ("postgresql://u:a:b@c@db/g", "postgresql://u:***@db/g"),  # ':' and '@' in it
        ("redis://u:@h/0", "redis://u:***@h/0"),  # an empty password
        ("redis://user@h/0", "redis://user@h/0"),  # a user, no password
        ("redis://h:6379", "redis://h:6379"),
        ("sqlite:///hub.db", "sqlite:///hub.db"),
        ("memory://", "memory://"),
        ("redis://h/0?key_prefix=a%20b&retries=1", "redis://h/0?key_prefix=a%20b&retries=1"),
        (
            "postgresql://u:s3cret@db/g?sslpassword=x&sslmode=require",
            "postgresql://u:***@db/g?sslpassword=***&sslmode=require",
        ),
        (
            "redis://h/0?auth_token=t&key_prefix=a/b:c",
            "redis://h/0?auth_token=***&key_prefix=a/b:c",
        ),
        ("redis://h/0?PASSWORD=x", "redis://h/0?PASSWORD=***"),
        (
            "redis://h/0?pass=a&passwd=b&pwd=c&client_secret=d",
            "redis://h/0?pass=***&passwd=***&pwd=***&client_secret=***",
        ),
        ("redis://h/0?password=&x=a%20b", "redis://h/0?password=***&x=a%20b"),  # blank secret
        ("redis://h/0?x=&password=p", "redis://h/0?x=&password=***"),  # blank kept
        # a key is quoted whole ("/" too), a value keeps "/", ":" and "="
        ("redis://h/0?a/b=c/d:e&password=p", "redis://h/0?a%2Fb=c/d:e&password=***"),
        ("redis://:s3cret@h/0?password=p#frag", "redis://:***@h/0?password=***#frag"),
        # an empty authority stays: not sqlite:/hub.db, another URL
        ("sqlite:///hub.db?password=p&x=1", "sqlite:///hub.db?password=***&x=1"),
        ("sqlite:////var/hub.db?pwd=p", "sqlite:////var/hub.db?pwd=***"),
        ("sqlite:hub.db?secret=p", "sqlite:hub.db?secret=***"),
        ("//u:s3cret@h/x", "//u:***@h/x"),
    ],
)
def test_redact_masks_every_password_and_leaves_the_rest(url: str, shown: str) -> None:
    assert redact(url) == shown


@pytest.mark.parametrize("url", ["http://u:s3cret@[::1", "redis://:s3cret@[h/0?password=p"])
def test_redact_of_an_unparsable_url_shows_nothing_of_it(url: str) -> None:
    assert redact(url) == "<unparsable URL>"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("pass", True),
        ("PASSWD", True),
        ("pwd", True),
        ("password", True),
        ("sslpassword", True),
        ("auth_token", True),
        ("Secret", True),
        ("client_secret", True),
        ("passage", False),
        ("pw", False),
        ("user", False),
        ("sslmode", False),
        ("key_prefix", False),
    ],
)
def test_which_query_options_are_secret(name: str, secret: bool) -> None:
    assert is_secret_option(name) is secret


# -- parse: the scheme table --------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "backend", "package"),
    [
        (scheme, entry.name, entry.package)
        for entry in BACKENDS
        for scheme in (*entry.schemes, entry.schemes[0].upper())
    ],
)
def test_every_scheme_names_its_backend_in_any_case(
    scheme: str, backend: str, package: str
) -> None:
    parsed = parse(f"{scheme}://h/x.db")

    assert parsed.backend == backend
    assert backend_package(parsed).__name__ == package


def test_the_scheme_table() -> None:
    assert {entry.name: entry.schemes for entry in BACKENDS} == {
        "memory": ("memory",),
        "sqlite": ("sqlite", "sqlite+pysqlite"),
        "postgresql": ("postgresql", "postgres", "postgresql+psycopg"),
        "redis": ("redis", "rediss", "redis+cluster", "rediss+cluster"),
    }


def test_parse_keeps_every_query_option_blank_ones_too() -> None:
    parsed = parse("postgresql://u:pw@db/g?pool_size=&sslmode=require&listen=")

    assert parsed == StoreURL(
        "postgresql://u:pw@db/g?pool_size=&sslmode=require&listen=",
        "postgresql",
        {"pool_size": "", "sslmode": "require", "listen": ""},
    )
    assert parsed.redacted == "postgresql://u:***@db/g?pool_size=&sslmode=require&listen="
    assert repr(parsed) == (
        "StoreURL('postgresql://u:***@db/g?pool_size=&sslmode=require&listen=', "
        "backend='postgresql')"
    )


KNOWN_SCHEMES = (
    "memory, postgres, postgresql, postgresql+psycopg, redis, redis+cluster, rediss, "
    "rediss+cluster, sqlite, sqlite+pysqlite"
)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "MySQL://root:s3cret@db/x?password=p",
            "unknown store URL scheme 'mysql' in 'mysql://root:***@db/x?password=***'; "
            f"known: {KNOWN_SCHEMES}",
        ),
        ("hub.db", f"unknown store URL scheme '' in 'hub.db'; known: {KNOWN_SCHEMES}"),
        ("", "a store URL must be a non-empty string, got ''"),
        (" \t", "a store URL must be a non-empty string, got ' \\t'"),
        (None, "a store URL must be a non-empty string, got None"),
        (b"sqlite:///x.db", "a store URL must be a non-empty string, got b'sqlite:///x.db'"),
        (
            "postgresql://u:s3cret@[::1/g",
            "malformed store URL '<unparsable URL>': Invalid IPv6 URL",
        ),
    ],
)
def test_bad_store_urls_are_refused_with_the_password_hidden(url: object, message: str) -> None:
    assert refused(parse, url) == message
    assert refused(create_store, url) == message


# -- create_store: each backend's options refused through the one entry point --


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        ("memory://?b=1&a=", {}, "memory:// takes no options, got a, b"),
        (
            "sqlite:///hub.db?synchronous=sometimes",
            {},
            "option synchronous='sometimes' must be one of off, normal, full, extra "
            "(in 'sqlite:///hub.db?synchronous=sometimes')",
        ),
        (
            "postgresql://u:s3cret@db/g",
            {"pool_size": 0},
            "option pool_size=0 must be at least 1 (in 'postgresql://u:***@db/g')",
        ),
        (
            "redis://:s3cret@h/0?retries=",
            {},
            "option retries='' is not a whole number (in 'redis://:***@h/0?retries=')",
        ),
    ],
)
def test_create_store_refuses_a_bad_option_of_every_backend(
    url: str, options: dict[str, object], message: str
) -> None:
    assert refused(create_store, url, **options) == message


def test_create_store_of_memory_takes_max_event_bytes() -> None:
    store = create_store("memory://", max_event_bytes=1000)

    assert isinstance(store, MemoryEventStore)
    assert store.max_event_bytes == 1000


def test_readmodel_store_for_a_store_with_read_models_and_for_one_without() -> None:
    assert isinstance(readmodel_store_for(create_store("memory://")), ReadModelStore)
    assert refused(readmodel_store_for, object()) == "no read-model storage for object"
