"""The raw-driver reference on Redis: redis-py (hiredis) and msgspec, one
Stream per hub, entries with hublog's fields (stream, version, id, type,
schema version, payload, time) and server-made ids.  Batches are one
pipeline of XADDs; a single event one XADD; reads XRANGE pages of 500."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec
import redis

from eventstore.events import Event

from .data import LogEntry
from .ours import event_of
from .shape import DECODERS

PAGE = 500

_encode = msgspec.msgpack.Encoder().encode


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def _fields(stream: str, version: int, event: Event) -> dict[str, bytes | str | int]:
    return {"s": stream, "v": version, "id": uuid.uuid4().hex, "t": event.__struct_config__.tag,
            "sv": type(event).schema_version, "d": _encode(event),
            "at": int(datetime.now(UTC).timestamp() * 1e6)}  # fmt: skip


def append(client: redis.Redis, key: str, stream: str, events: Sequence[Event]) -> None:
    pipe = client.pipeline(transaction=False)
    for version, event in enumerate(events, start=1):
        pipe.xadd(key, _fields(stream, version, event))
    pipe.execute()


def batched_append(client: redis.Redis, key: str, pending: list[list[Event]]) -> float:
    started = time.perf_counter()
    for n, events in enumerate(pending):
        append(client, key, f"metrics/i{n}", events)
    return sum(map(len, pending)) / (time.perf_counter() - started)


def single_appends(client: redis.Redis, key: str, pending: list[Event]) -> float:
    started = time.perf_counter()
    for version, event in enumerate(pending, start=1):
        client.xadd(key, _fields("metrics/single", version, event))
    return len(pending) / (time.perf_counter() - started)


def read_all(client: redis.Redis, key: str) -> int:
    start, count = "-", 0
    while True:
        page = client.xrange(key, start, "+", count=PAGE)
        for _, fields in page:
            DECODERS[fields[b"t"].decode()].decode(fields[b"d"])
        count += len(page)
        if len(page) < PAGE:
            return count
        start = "(" + page[-1][0].decode()


def fill(client: redis.Redis, key: str, log: list[LogEntry]) -> None:
    for chunk in range(0, len(log), PAGE):
        pipe = client.pipeline(transaction=False)
        for entry in log[chunk : chunk + PAGE]:
            stream, event = event_of(entry)
            pipe.xadd(key, _fields(stream, 0, event))
        pipe.execute()
