"""The read-model storage contract: what every backend's ``ReadModelStore``
promises the runner (exactly-once commits by position, ranges, snapshots,
byte-wise key order)."""

from __future__ import annotations

import pytest

from projections import Checkpoint, CheckpointConflict, Commit, ReadModelStore

pytestmark = pytest.mark.anyio

HUB = "ollama-pool"


def commit(after: int, position: int, **kw: object) -> Commit:
    return Commit(
        projection="p", hub_id=HUB, fingerprint="p:v1", after=after, position=position, **kw
    )  # type: ignore[arg-type]


async def test_storage_commits_exactly_once(storage: ReadModelStore) -> None:
    first = commit(0, 3, writes=(("t", "a", b"1"), ("t", "b", b"2"), ("u", "x", b"3")))
    assert await storage.commit(first) is True
    assert await storage.commit(first) is False  # a retry: already applied, nothing written
    with pytest.raises(CheckpointConflict, match="Expected: 1, Actual: 3"):
        await storage.commit(commit(1, 5, writes=(("t", "z", b"9"),)))
    second = commit(
        3, 5, ranges=(("t", "a", "b"),), writes=(("t", "c", b"4"), ("u", "x", None)), snapshot=b"s5"
    )

    assert await storage.commit(second) is True

    assert await storage.scan("p", HUB, "t") == [("b", b"2"), ("c", b"4")]
    assert await storage.scan("p", HUB, "t", start="b", stop="c") == [("b", b"2")]
    assert await storage.scan("p", HUB, "t", limit=1) == [("b", b"2")]
    assert await storage.get("p", HUB, "u", "x") is None
    assert await storage.tables("p", HUB) == ["t"]
    assert await storage.checkpoint("p", HUB) == Checkpoint(5, "p:v1")
    assert (await storage.snapshot("p", HUB, at_or_before=4)) is None
    snapshot = await storage.snapshot("p", HUB)
    assert snapshot is not None and (snapshot.position, snapshot.data) == (5, b"s5")
    assert await storage.find("p", "t", "c") == [(HUB, b"4")]
    assert await storage.hubs("p") == [HUB]

    await storage.drop("p", HUB)
    assert (
        await storage.checkpoint("p", HUB),
        await storage.tables("p", HUB),
        await storage.hubs("p"),
    ) == (None, [], [])
    assert await storage.snapshot("p", HUB) is None


async def test_keys_sort_bytewise_on_every_backend(storage: ReadModelStore) -> None:
    keys = ["a{2026", "a/b{1", "a{2025", "a|x", "A", "a{", "é", "a-{1", "a.{1"]
    await storage.commit(commit(0, 1, writes=tuple(("t", k, k.encode()) for k in keys)))

    assert [k for k, _ in await storage.scan("p", HUB, "t")] == sorted(keys)
    assert [k for k, _ in await storage.scan("p", HUB, "t", start="a{", stop="a|")] == [
        "a{",
        "a{2025",
        "a{2026",
    ]
