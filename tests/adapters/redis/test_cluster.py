"""The Redis backend on a local 3-primary Redis Cluster: hubs spread over the
nodes, each hub whole on one node, hubs() across all of them."""

from __future__ import annotations

import uuid

import pytest
from redis.cluster import RedisCluster
from redis.crc import key_slot

from adapters import open_store
from adapters.redis import RedisEventStore
from adapters.redis.keys import HubKeys
from eventstore import StoreConfigurationError
from tests.eventstore.contract.factories import checks, registered
from tests.servers import LocalCluster

pytestmark = pytest.mark.anyio

HUBS = [f"pool-{n}" for n in range(12)]
CONTRACT_HUBS = ["ollama-pool", "hub-1", "hub-2", "other-hub", "shared-pool"]


def node_of(cluster: LocalCluster, hub: str) -> int:
    """The port of the primary serving the hub's slot, asked of the cluster itself."""
    with cluster.nodes[0].client() as client:
        for start, end, primary, *_ in client.execute_command("CLUSTER", "SLOTS"):
            if start <= key_slot(hub.encode()) <= end:
                return int(primary[1])
    raise AssertionError(f"no node serves the slot of {hub!r}")


def test_the_fixture_runs_three_primaries_serving_every_slot(local_cluster: LocalCluster) -> None:
    with local_cluster.nodes[0].client() as client:
        info = client.cluster("INFO")
        nodes = client.cluster("NODES")

    assert info["cluster_state"] == "ok"
    assert int(info["cluster_slots_assigned"]) == 16384
    assert sorted(int(address.split(":")[1].split("@")[0]) for address in nodes) == sorted(
        node.port for node in local_cluster.nodes
    )
    assert all("master" in node["flags"] for node in nodes.values())


def test_the_contract_suites_hubs_land_on_different_nodes(local_cluster: LocalCluster) -> None:
    assert len({node_of(local_cluster, hub) for hub in CONTRACT_HUBS}) >= 2


async def test_hubs_spread_over_every_node_and_hubs_lists_them_all(
    local_cluster: LocalCluster, cluster_url: str
) -> None:
    async with open_store(cluster_url) as store:
        for hub in HUBS:
            await store.append(hub, "instance/a", [registered(), *checks(2)])

        assert await store.hubs() == sorted(HUBS)
        assert {node_of(local_cluster, hub) for hub in HUBS} == {
            n.port for n in local_cluster.nodes
        }
        assert [await store.head(hub) for hub in HUBS] == [3] * len(HUBS)


async def test_all_keys_of_a_hub_live_on_the_node_of_its_slot(
    local_cluster: LocalCluster, cluster_url: str
) -> None:
    async with open_store(cluster_url) as store:
        assert isinstance(store, RedisEventStore)
        await store.append("pool-0", "instance/a", [registered()])

    keys = HubKeys.of(store.key_prefix, "pool-0").all()
    port = node_of(local_cluster, "pool-0")
    [home] = [n for n in local_cluster.nodes if n.port == port]
    with home.client() as client:
        assert client.exists(*keys) == len(keys)


async def test_a_plain_server_named_as_a_cluster_is_refused(redis_url: str) -> None:
    url = redis_url.replace("redis://", "redis+cluster://")

    with pytest.raises(
        StoreConfigurationError, match="names a Redis Cluster, but the server is not one"
    ):
        await open_store(url)


async def test_a_cluster_client_given_is_used_and_left_open(local_cluster: LocalCluster) -> None:
    prefix = f"hublog-test-{uuid.uuid4().hex[:12]}"
    client = RedisCluster(host="127.0.0.1", port=local_cluster.nodes[0].port)
    try:
        async with RedisEventStore(client, key_prefix=prefix) as store:
            await store.append("pool-1", "instance/a", [registered()])
            assert await store.hubs() == ["pool-1"]

        assert client.hget(HubKeys.of(prefix, "pool-1").meta, "head") == b"1"
    finally:
        client.close()
