"""The key layout: one hash tag per hub, prefixes that cannot steal it."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from adapters.redis import keys as redis_keys
from adapters.redis.keys import HubKeys
from eventstore import StoreConfigurationError


@pytest.mark.parametrize("hub", ["ollama-pool", "hub-1", "pool with spaces", "ünïcode", "a:b/c*?"])
def test_every_key_of_a_hub_hashes_to_the_slot_of_its_hub_id(hub: str) -> None:
    keys = HubKeys.of("gleitzeit:hub", hub).all()

    assert len(set(keys)) == 5
    assert {key_slot(k.encode()) for k in keys} == {key_slot(hub.encode())}


def test_hubs_with_different_ids_spread_over_slots() -> None:
    slots = {key_slot(HubKeys.of("p", f"hub-{n}").log.encode()) for n in range(20)}

    assert len(slots) > 10


@pytest.mark.parametrize("prefix", ["{tag}", "a}b", "", 7])
def test_a_prefix_that_is_empty_or_holds_a_brace_is_refused(prefix: object) -> None:
    with pytest.raises(StoreConfigurationError, match="key_prefix"):
        redis_keys.check_prefix(prefix)


def test_the_meta_key_names_its_hub_and_nothing_else_does() -> None:
    keys = HubKeys.of("p*x", "pool-1")

    assert redis_keys.hub_of_meta_key("p*x", keys.meta) == "pool-1"
    assert redis_keys.hub_of_meta_key("p*x", keys.log) is None
    assert redis_keys.hub_of_meta_key("p", keys.meta) is None
    assert redis_keys.meta_pattern("p*x[1]?") == "p\\*x\\[1\\]\\?:{*}:meta"


@pytest.mark.parametrize("key", ["p:{}:meta", "p:{a{b}:meta", "p:{a}b}:meta", "p:{a}:x:{b}:meta"])
def test_a_meta_key_whose_hub_part_is_empty_or_holds_a_brace_names_no_hub(key: str) -> None:
    # SCAN's pattern p:{*}:meta matches these too; none is a hub's meta key.
    assert redis_keys.hub_of_meta_key("p", key) is None
