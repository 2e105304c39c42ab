"""Key names the backend builds and reads back: the read-model registry, the
meta keys a SCAN finds, and a key prefix refused by name."""

from __future__ import annotations

import pytest

from adapters.redis import keys as redis_keys
from eventstore import StoreConfigurationError


def test_the_read_model_registry_of_a_projection_lives_under_the_prefix() -> None:
    assert redis_keys.readmodel_hubs("gleitzeit:hub", "health") == "gleitzeit:hub:rm:hubs:health"


@pytest.mark.parametrize("prefix", ["a{b", "a}b"])
def test_a_prefix_with_either_brace_is_refused_with_the_reason(prefix: str) -> None:
    with pytest.raises(StoreConfigurationError) as caught:
        redis_keys.check_prefix(prefix)

    assert str(caught.value) == (
        f"key_prefix {prefix!r} contains a brace; braces would make it the Redis Cluster "
        "hash tag instead of the hub id"
    )


@pytest.mark.parametrize("key", ["p:{}:meta", "p:{a{b}:meta", "p:{a}b}:meta"])
def test_a_meta_key_with_an_empty_hub_or_a_brace_in_it_names_no_hub(key: str) -> None:
    assert redis_keys.hub_of_meta_key("p", key) is None


def test_a_meta_key_names_its_hub() -> None:
    assert redis_keys.hub_of_meta_key("p", "p:{pool-1}:meta") == "pool-1"
