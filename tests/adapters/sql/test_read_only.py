"""A log opened only to read: a SQLite file that is not there is refused,
never created, and an existing one is opened read-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters import open_store
from eventstore import BackendError, HubStarted, ResourceType, StoreConfigurationError

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_opened_read_only_a_missing_sqlite_file_is_refused_not_created(
    tmp_path: Path,
) -> None:
    path = tmp_path / "typo.db"

    with pytest.raises(StoreConfigurationError, match="no SQLite database at"):
        async with open_store(f"sqlite:///{path}", read_only=True):
            pass

    assert list(tmp_path.iterdir()) == []


async def test_opened_read_only_a_sqlite_log_reads_and_refuses_to_append(
    make_url: object,
) -> None:
    url = make_url("sqlite")  # type: ignore[operator]
    started = HubStarted(resource_type=ResourceType.OLLAMA, node_id="n")
    async with open_store(url) as store:
        await store.append("hub-a", "hub", [started])

    async with open_store(url, read_only=True) as store:
        assert [e.position async for e in store.read_log("hub-a")] == [1]
        with pytest.raises(BackendError, match="readonly"):
            await store.append("hub-a", "hub", [HubStarted(resource_type=ResourceType.OLLAMA)])


async def test_a_missing_sqlite_file_that_must_exist_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreConfigurationError, match="no SQLite database at"):
        async with open_store(f"sqlite:///{tmp_path / 'typo.db'}", create=False):
            pass

    assert list(tmp_path.iterdir()) == []


async def test_read_only_is_accepted_and_ignored_by_a_server_or_memory_log() -> None:
    async with open_store("memory://", read_only=True, create=False) as store:
        assert await store.hubs() == []
