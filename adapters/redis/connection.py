"""Reaching Redis: clients, and which server holds a key.

Every hub-level call goes to the one server that holds the hub: on a
cluster, the primary that owns the slot of the hub's hash tag.  redis-py's
cluster client serves only as the map of slots to nodes; the commands go to
that node's own client, so a script and a ``WAITAOF`` after it share one
connection on both kinds of deployment.
"""

from __future__ import annotations

import threading

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

Client = redis.Redis | RedisCluster


def create_client(client_url: str, *, cluster: bool, socket_timeout: float) -> Client:
    """A client for a redis-py URL.  A cluster client connects at once (to
    learn the slots), so call it in a worker thread.

    Raises: ValueError for a malformed URL; redis.RedisClusterException
    when no cluster node answers.
    """
    # No retries in redis-py: the store retries whole calls itself, in one place.
    common = {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": socket_timeout,
        "retry": Retry(NoBackoff(), 0),
    }
    if cluster:
        return RedisCluster.from_url(client_url, **common)
    return redis.Redis.from_url(client_url, **common)


class Nodes:
    """Which server holds a key: the one server, or the cluster primary of its slot."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.is_cluster = isinstance(client, RedisCluster)
        # Blocking reads (XREAD BLOCK) use pools of their own, so they never
        # starve the client's pool and close() can always cut them short.
        self._blocking: dict[redis.ConnectionPool, redis.Redis] = {}
        self._lock = threading.Lock()

    def for_key(self, key: str) -> redis.Redis:
        if isinstance(self.client, RedisCluster):
            return self.client.get_node_from_key(key).redis_connection
        return self.client

    def primaries(self) -> list[redis.Redis]:
        if isinstance(self.client, RedisCluster):
            return [node.redis_connection for node in self.client.get_primaries()]
        return [self.client]

    def any(self) -> redis.Redis:
        if isinstance(self.client, RedisCluster):
            return self.client.get_default_node().redis_connection
        return self.client

    def refresh(self) -> None:
        """Learn the cluster's slots again (after MOVED, a failover, a lost node)."""
        if isinstance(self.client, RedisCluster):
            self.client.nodes_manager.initialize()

    def blocking_for_key(self, key: str) -> redis.Redis:
        pool = self.for_key(key).connection_pool
        with self._lock:
            client = self._blocking.get(pool)
            if client is None:
                own = redis.ConnectionPool(
                    connection_class=pool.connection_class, **pool.connection_kwargs
                )
                client = self._blocking[pool] = redis.Redis(connection_pool=own)
            return client

    def close(self, *, owned: bool) -> None:
        """Cut blocking reads short; close the client too when we made it."""
        with self._lock:
            blocking, self._blocking = list(self._blocking.values()), {}
        for client in blocking:
            client.connection_pool.disconnect()
        if owned:
            if isinstance(self.client, RedisCluster):
                # close() leaves the node pools of a from_url() client open
                self.client.disconnect_connection_pools()
            self.client.close()
