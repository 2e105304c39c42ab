"""Reaching Redis: store URLs, clients, and which server holds a hub.

A standalone server is ``redis://host:port/db`` (``rediss://`` for TLS).  A
Redis Cluster is ``redis+cluster://host:port`` (``rediss+cluster://``), or
any of the first two with ``?cluster=true``; the address is one node of the
cluster, the rest are discovered.  hublog's own options travel in the query
(``key_prefix``, ``wait_for_aof``, …); everything else there goes to redis-py
(``socket_timeout``, ``client_name``, …).

Every hub-level call goes to the one server that holds the hub: on a
cluster, the primary that owns the slot of the hub's hash tag.  redis-py's
cluster client serves only as the map of slots to nodes; the commands go to
that node's own client, so a script and a ``WAITAOF`` after it share one
connection on both kinds of deployment.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

from eventstore.errors import StoreConfigurationError

from . import urls

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
PLAIN_SCHEMES = {"redis", "rediss"}
HUBLOG_OPTIONS = {
    "key_prefix",
    "cluster",
    "wait_for_aof",
    "wait_for_aof_timeout",
    "block_timeout",
    "retries",
}

Client = redis.Redis | RedisCluster


@dataclass(frozen=True)
class RedisURL:
    """A Redis store URL taken apart: what redis-py gets, and hublog's options."""

    client_url: str
    cluster: bool
    options: dict[str, str]
    redacted: str


def parse_url(url: str) -> RedisURL:
    """Raises: StoreConfigurationError for a URL that is not a Redis store URL."""
    redacted = urls.redact(url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in PLAIN_SCHEMES and scheme not in CLUSTER_SCHEMES:
        raise StoreConfigurationError(f"{redacted!r} is not a Redis store URL")
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = {k: v for k, v in query if k in HUBLOG_OPTIONS}
    rest = urlencode([(k, v) for k, v in query if k not in HUBLOG_OPTIONS])
    cluster = scheme in CLUSTER_SCHEMES or to_bool("cluster", options.get("cluster", "false"))
    client_url = parts._replace(scheme=CLUSTER_SCHEMES.get(scheme, scheme), query=rest).geturl()
    return RedisURL(client_url, cluster, options, redacted)


def to_bool(name: str, value: str | bool) -> bool:
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise StoreConfigurationError(f"option {name}={value!r} is not a boolean (true or false)")


def to_number(name: str, value: str | float, *, minimum: float, kind: type = float) -> float:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise StoreConfigurationError(f"option {name}={value!r} is not a number") from None
    if isinstance(number, bool) or number < minimum:
        raise StoreConfigurationError(f"option {name}={value!r} must be at least {minimum}")
    return number


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
