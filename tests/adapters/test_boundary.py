"""Only hublog's own errors leave its API: every public method of every
server-backed store, against a server that is not there or a file that is
not a database, raises an EventStoreError subclass — never a driver error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.stores import create_store, readmodel_store_for
from eventstore import (
    BackendError,
    BackendUnavailable,
    EventStore,
    EventStoreError,
    HealthChecked,
)
from tests.servers import free_port

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"
A = "instance/a"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


async def drain(source: Any) -> None:
    async for _ in source:
        pass


def calls(store: EventStore) -> dict[str, Callable[[], Awaitable[Any]]]:
    """Every public method of the store contract, with sensible arguments."""
    return {
        "open": store.open,
        "append": lambda: store.append(HUB, A, [HealthChecked(ok=True, checked_at=NOW)]),
        "read_stream": lambda: drain(store.read_stream(HUB, A)),
        "read_log": lambda: drain(store.read_log(HUB)),
        "last_event": lambda: store.last_event(HUB, A),
        "position_at": lambda: store.position_at(HUB, NOW),
        "delete_metric_samples": lambda: store.delete_metric_samples(
            HUB, "metrics/a", through_version=3
        ),
        "stream_version": lambda: store.stream_version(HUB, A),
        "head": lambda: store.head(HUB),
        "hubs": store.hubs,
        "now": store.now,
    }


def unreachable(kind: str, tmp_path: Path) -> tuple[str, type[EventStoreError]]:
    port = free_port()
    if kind == "postgresql":
        return f"postgresql://u@127.0.0.1:{port}/db?connect_timeout=1", BackendUnavailable
    if kind == "redis":
        return f"redis://127.0.0.1:{port}/0?retries=0", BackendUnavailable
    damaged = tmp_path / "not-a-database.db"
    damaged.write_bytes(b"this is not an SQLite file " * 200)
    return f"sqlite:///{damaged}", BackendError


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "redis"])
async def test_every_public_method_raises_only_hublogs_errors(kind: str, tmp_path: Path) -> None:
    url, expected = unreachable(kind, tmp_path)
    store = create_store(url)
    try:
        for name, call in calls(store).items():
            with pytest.raises(expected) as caught:
                await call()
            assert isinstance(caught.value, EventStoreError), name
    finally:
        await store.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "redis"])
async def test_the_read_model_store_raises_only_hublogs_errors(kind: str, tmp_path: Path) -> None:
    url, expected = unreachable(kind, tmp_path)
    store = create_store(url)
    storage = readmodel_store_for(store)
    try:
        for call in (
            lambda: storage.checkpoint("hub", HUB),
            lambda: storage.get("hub", HUB, "instances", "a"),
            lambda: storage.scan("hub", HUB, "instances"),
            lambda: storage.hubs("hub"),
            lambda: storage.snapshot("hub", HUB),
        ):
            with pytest.raises(expected):
                await call()
    finally:
        await storage.close()
        await store.close()
