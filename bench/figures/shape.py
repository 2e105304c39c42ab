"""hublog's table shape for the raw references (as alembic's 0001 migration
makes it), and the msgspec decoders a raw reader uses."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from eventstore.events import CATALOGUE

from .data import LogEntry
from .ours import event_of

TYPES = {
    "sqlite": {"uuid": "CHAR(32)", "bytes": "BLOB", "time": "DATETIME"},
    "postgresql": {"uuid": "UUID", "bytes": "BYTEA", "time": "TIMESTAMPTZ"},
}

DECODERS = {cls.__struct_config__.tag: msgspec.msgpack.Decoder(cls) for cls in CATALOGUE}
"""One decoder per event type, keyed by the stored ``type`` column."""

_encode = msgspec.msgpack.Encoder().encode


def ddl(dialect: str) -> list[str]:
    t = TYPES[dialect]
    return [
        "CREATE TABLE hublog_hubs (hub_id VARCHAR(200) PRIMARY KEY, head BIGINT NOT NULL)",
        (
            "CREATE TABLE hublog_streams (hub_id VARCHAR(200), stream VARCHAR(210), "
            "version BIGINT NOT NULL, PRIMARY KEY (hub_id, stream))"
        ),
        (
            f"CREATE TABLE hublog_events (hub_id VARCHAR(200), position BIGINT, "
            f"stream VARCHAR(210) NOT NULL, version BIGINT NOT NULL, event_id {t['uuid']} NOT NULL, "
            f"type VARCHAR(200) NOT NULL, schema_version INTEGER NOT NULL, data {t['bytes']} NOT NULL, "
            f"recorded_at {t['time']} NOT NULL, correlation_id VARCHAR(200), "
            f"causation_id VARCHAR(200), PRIMARY KEY (hub_id, position), "
            f"UNIQUE (hub_id, stream, version), UNIQUE (hub_id, event_id))"
        ),
        "CREATE INDEX ix_hublog_events_recorded_at ON hublog_events (hub_id, recorded_at)",
    ]


def log_rows(hub: str, log: list[LogEntry]) -> tuple[list[tuple[Any, ...]], dict[str, int]]:
    """The event rows of ``log`` (native uuid and datetime), and the streams' versions."""
    versions: dict[str, int] = {}
    rows = []
    for position, entry in enumerate(log, start=1):
        stream, event = event_of(entry)
        versions[stream] = versions.get(stream, 0) + 1
        rows.append((hub, position, stream, versions[stream], uuid.uuid4(),
                     event.__struct_config__.tag, type(event).schema_version, _encode(event),
                     entry.at))  # fmt: skip
    return rows, versions
