"""The names inside the log (eventstore/streams.py), checked directly: the
projections lean on ``entity_of`` and the store front on ``check_id``, and
the contract suite only sees them through a backend."""

from __future__ import annotations

from uuid import UUID

import pytest

from eventstore import streams
from eventstore.errors import InvalidEventError


@pytest.mark.parametrize(
    ("stream", "entity"),
    [
        ("instance/a", "a"),
        ("queue/saved/nightly", "saved/nightly"),  # the id is all after the first "/"
        ("lock/gpu/0", "gpu/0"),
        ("hub", None),
    ],
)
def test_entity_of_is_everything_after_the_category(stream: str, entity: str | None) -> None:
    assert streams.entity_of(stream) == entity


def test_the_stream_builders_and_category_of_agree() -> None:
    built = [
        streams.instance("a"),
        streams.metrics("a"),
        streams.lease("r/1"),
        streams.queue(),
        streams.saved_queue("q"),
    ]
    assert built == ["instance/a", "metrics/a", "lock/r/1", "queue/reserve", "queue/saved/q"]
    assert [streams.category_of(s) for s in built] == [
        "instance",
        "metrics",
        "lock",
        "queue",
        "queue",
    ]
    assert [streams.check_stream(s) for s in built] == built


def test_an_id_of_the_longest_length_is_kept_and_one_longer_is_refused() -> None:
    longest = "c" * streams.MAX_NAME_LENGTH
    assert streams.check_id("correlation_id", longest) == longest

    with pytest.raises(InvalidEventError) as caught:
        streams.check_id("correlation_id", longest + "c")

    assert str(caught.value) == (
        f"correlation_id must be 1..{streams.MAX_NAME_LENGTH} characters, "
        f"got {streams.MAX_NAME_LENGTH + 1}: {'c' * 40!r}"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"abc", "causation_id must be a str or UUID, got bytes"),
        (7, "causation_id must be a str or UUID, got int"),
        ("", "causation_id must be 1..200 characters, got 0: ''"),
        ("a\x00b", "causation_id 'a\\x00b' contains characters the log refuses: ['\\x00']"),
    ],
    ids=["bytes", "int", "empty", "a-control-character"],
)
def test_a_bad_id_is_refused_naming_what_it_is(value: object, message: str) -> None:
    with pytest.raises(InvalidEventError) as caught:
        streams.check_id("causation_id", value)

    assert str(caught.value) == message


def test_an_id_is_kept_as_text_and_none_as_none() -> None:
    uuid = UUID("12345678-1234-5678-1234-567812345678")
    assert streams.check_id("correlation_id", uuid) == "12345678-1234-5678-1234-567812345678"
    assert streams.check_id("correlation_id", None) is None
    assert streams.check_id("correlation_id", "run-1") == "run-1"


@pytest.mark.parametrize("name", ["X-ray", "GPU pool X", "ollama_1.eu-west", "ünïcødé", "a/b:c"])
def test_ordinary_names_pass_the_check_unchanged(name: str) -> None:
    assert streams.check_name("hub_id", name) == name
