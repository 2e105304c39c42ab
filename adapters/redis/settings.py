"""``RedisSettings``: everything the Redis backend is configured by, parsed
and checked in one place — from the URL's query and from keyword arguments
(which win), with errors naming the option and the URL (password redacted).

A standalone server is ``redis://host:port/db`` (``rediss://`` for TLS).  A
Redis Cluster is ``redis+cluster://host:port`` (``rediss+cluster://``), or
either of the first two with ``?cluster=true``; the address is one node of
the cluster, the rest are discovered.  hublog's own options travel in the
query (``key_prefix``, ``wait_for_aof``, …); everything else there goes to
redis-py (``socket_timeout``, ``client_name``, …).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from redis.connection import URL_QUERY_ARGUMENT_PARSERS

from eventstore.errors import StoreConfigurationError

from .. import options as opt
from ..urls import StoreURL, redact
from . import keys

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
PLAIN_SCHEMES = {"redis", "rediss"}
URL_OPTIONS = frozenset(
    {
        "key_prefix",
        "cluster",
        "wait_for_aof",
        "wait_for_aof_timeout",
        "block_timeout",
        "retries",
        # redis-py reads it from the URL too, but left to redis-py it would
        # escape the check that it outlasts block_timeout.
        "socket_timeout",
    }
)
"""Options hublog reads from the URL's query itself."""
KEYWORDS = URL_OPTIONS | {"max_event_bytes"}
"""Options that may also be given as keyword arguments."""
DRIVER_OPTIONS = frozenset(URL_QUERY_ARGUMENT_PARSERS) | {
    "client_name",
    "username",
    "password",
    "lib_name",
    "lib_version",
    "ssl_keyfile",
    "ssl_certfile",
    "ssl_cert_reqs",
    "ssl_ca_certs",
    "ssl_ca_path",
    "ssl_ciphers",
    "ssl_password",
}
"""What redis-py takes from a URL beside hublog's: the options it parses
itself, and its string-valued connection arguments."""


@dataclass(frozen=True)
class RedisSettings:
    """How to reach and run a Redis store.

    Attributes:
        client_url: what redis-py gets (hublog's options removed; kept out of
            ``repr``, it may hold a password).
        where: the URL for messages, password redacted.
        key_prefix: first part of every key (default ``gleitzeit:hub``).
        cluster: a Redis Cluster.
        wait_for_aof: acknowledge an append only once the server has written
            it to its AOF and fsynced it (``WAITAOF 1 0``; Redis >= 7.2 with
            ``appendonly yes``, checked at open).
        wait_for_aof_timeout: how long an append waits for that, in seconds;
            past it the append raises BackendUnavailable (retry it).
        block_timeout: how long one ``XREAD BLOCK`` of a subscriber waits,
            in seconds, before it asks again.
        retries: how often a call that met a lost connection, a timeout or a
            changing cluster is tried again before BackendUnavailable.
        socket_timeout: seconds to wait for a connection or a reply.
        max_event_bytes: the largest encoded event accepted (None: the default).
    """

    client_url: str | None = field(default=None, repr=False)
    where: str = "a Redis client"
    key_prefix: str = keys.DEFAULT_PREFIX
    cluster: bool = False
    wait_for_aof: bool = False
    wait_for_aof_timeout: float = 3.0
    block_timeout: float = 1.0
    retries: int = 3
    socket_timeout: float = 5.0
    max_event_bytes: int | None = None

    @classmethod
    def from_url(cls, url: str | StoreURL, **given: Any) -> RedisSettings:
        """Settings for a Redis store URL, keyword arguments overriding the query.

        Raises: StoreConfigurationError for a URL that is not a Redis store
        URL, an unknown option or a bad value (``cluster=false`` with a
        ``+cluster`` scheme too), naming the option and the URL.
        """
        raw = url.raw if isinstance(url, StoreURL) else url
        where = redact(raw)
        try:
            parts = urlsplit(raw)
        except ValueError as exc:  # an unclosed IPv6 bracket
            raise StoreConfigurationError(f"{where!r} is not a valid URL: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in PLAIN_SCHEMES and scheme not in CLUSTER_SCHEMES:
            raise StoreConfigurationError(f"{where!r} is not a Redis store URL")
        query = parse_qsl(parts.query, keep_blank_values=True)
        rest = urlencode([(k, v) for k, v in query if k not in URL_OPTIONS])
        client_url = parts._replace(scheme=CLUSTER_SCHEMES.get(scheme, scheme), query=rest).geturl()
        hublog_query = {k: v for k, v in query if k in URL_OPTIONS}
        values = opt.merge(hublog_query, given, KEYWORDS, where)
        if scheme in CLUSTER_SCHEMES:
            if "cluster" in values and not opt.to_bool("cluster", values["cluster"], where):
                raise opt.refuse(
                    "cluster", values["cluster"], where, f"contradicts the {scheme}:// scheme"
                )
            values["cluster"] = True
        settings = cls._checked(values, client_url=client_url, where=where)
        # after hublog's own values: a bad one of those is the clearer message
        opt.check_url_options(
            (k for k, _ in query),
            URL_OPTIONS,
            DRIVER_OPTIONS,
            "redis-py",
            where,
            keyword_only=KEYWORDS - URL_OPTIONS,
        )
        return settings

    @classmethod
    def for_client(cls, where: str, *, cluster: bool, **given: Any) -> RedisSettings:
        """Settings for a client made by the caller (described by ``where``)."""
        values = opt.merge({}, given, KEYWORDS, where)
        values.setdefault("cluster", cluster)
        return cls._checked(values, client_url=None, where=where)

    @classmethod
    def _checked(
        cls, values: dict[str, Any], *, client_url: str | None, where: str
    ) -> RedisSettings:
        def number(name: str, default: float, minimum: float) -> float:
            return opt.to_number(
                name, values.get(name, default), minimum=minimum, where=where, kind=float
            )

        settings = cls(
            client_url=client_url,
            where=where,
            key_prefix=_prefix(values.get("key_prefix", keys.DEFAULT_PREFIX), where),
            cluster=opt.to_bool("cluster", values.get("cluster", False), where),
            wait_for_aof=opt.to_bool("wait_for_aof", values.get("wait_for_aof", False), where),
            wait_for_aof_timeout=number("wait_for_aof_timeout", 3.0, 0.001),
            block_timeout=number("block_timeout", 1.0, 0.001),
            retries=opt.to_number(
                "retries", values.get("retries", 3), minimum=0, where=where, kind=int
            ),
            socket_timeout=number("socket_timeout", 5.0, 0.001),
            max_event_bytes=None
            if values.get("max_event_bytes") is None
            else opt.to_number(
                "max_event_bytes", values["max_event_bytes"], minimum=1, where=where, kind=int
            ),
        )
        settings._check_timeouts()
        return settings

    def _check_timeouts(self) -> None:
        waiting = {"block_timeout": self.block_timeout}
        if self.wait_for_aof:
            waiting["wait_for_aof_timeout"] = self.wait_for_aof_timeout
        for name, waits in waiting.items():
            if self.socket_timeout <= waits:
                raise StoreConfigurationError(
                    f"socket_timeout ({self.socket_timeout}s) must exceed {name} ({waits}s), "
                    f"or the socket would time out before Redis answers (in {self.where!r})"
                )


def _prefix(prefix: object, where: str) -> str:
    try:
        return keys.check_prefix(prefix)
    except StoreConfigurationError as exc:
        raise StoreConfigurationError(f"{exc} (in {where!r})") from None
