"""The spill file: framed, checked, and never a crash loop — a torn or
corrupted record is cut and reported with its offset; what precedes it drains."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.memory import MemoryEventStore
from eventstore.recorder import MAGIC, SpillFile, SpillFileError, drain, scan
from eventstore.recorder.spill import SpillBatch, SpillEvent
from tests import backends
from tests.eventstore.recorder.conftest import HUB, check

pytestmark = pytest.mark.anyio


anyio_backend = backends.asyncio_only


def write_spill(path: Path, batches: int) -> tuple[list[int], list[list[object]]]:
    """A spill file of ``batches`` records of 3 events; their offsets and ids."""
    codec = MemoryEventStore().codec
    spill, ids = SpillFile(path), []
    for b in range(batches):
        events = [check(b * 3 + i) for i in range(3)]
        encoded = [codec.encode(e) for e in events]
        spill.append(
            [SpillBatch(HUB, "instance/a", [SpillEvent(e.type, 1, e.data) for e in encoded])]
        )
        ids.append([e.event_id for e in events])
    offsets = [offset for offset, _ in spill.read()]
    spill.close()
    return offsets, ids


async def drained_ids(path: Path) -> tuple[list[object], object]:
    store = MemoryEventStore()
    spill = SpillFile(path)
    damage = spill.damage
    await drain(store, spill)
    spill.close()
    return [e.event_id async for e in store.read_log(HUB)], damage


async def test_a_torn_tail_is_cut_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "a.spill"
    offsets, ids = write_spill(path, 4)
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.truncate(size - 5)  # the last record torn mid-payload, as by a crash

    found = scan(path)
    assert found.damage is not None and found.damage.offset == offsets[3]
    assert "torn" in found.damage.reason
    got, damage = await drained_ids(path)
    assert got == [i for batch in ids[:3] for i in batch]
    assert damage is not None and damage.offset == offsets[3]
    assert (tmp_path / f"a.spill.damaged-{offsets[3]}").exists()
    assert scan(path).damage is None and scan(path).records == []  # drained, healthy again


@pytest.mark.parametrize("where", ["header", "payload", "length"])
async def test_flipped_bytes_drain_up_to_the_damage(tmp_path: Path, where: str) -> None:
    path = tmp_path / "b.spill"
    offsets, ids = write_spill(path, 5)
    at = offsets[2] + {"header": 5, "payload": 20, "length": 2}[where]
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))

    got, damage = await drained_ids(path)
    assert got == [i for batch in ids[:2] for i in batch]
    assert damage is not None and damage.offset == offsets[2]


async def test_a_file_that_is_not_a_spill_file_is_damage_at_zero(tmp_path: Path) -> None:
    path = tmp_path / "c.spill"
    path.write_bytes(b"garbage that is no spill file at all")
    spill = SpillFile(path)
    assert spill.damage is not None and spill.damage.offset == 0
    spill.close()
    assert path.read_bytes() in (b"", MAGIC)


def test_opened_to_drain_a_file_without_the_spill_header_is_refused_untouched(
    tmp_path: Path,
) -> None:
    path = tmp_path / "pool.jsonl"
    content = b'{"hub_id": "demo-pool", "position": 1}\n' * 20
    path.write_bytes(content)

    with pytest.raises(SpillFileError, match="is not a spill file"):
        SpillFile(path, create=False)

    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pool.jsonl"]


def test_opened_to_drain_a_missing_file_is_refused_not_created(tmp_path: Path) -> None:
    with pytest.raises(SpillFileError, match="no spill file at"):
        SpillFile(tmp_path / "typo.spill", create=False)

    assert list(tmp_path.iterdir()) == []
