"""A backend that hangs: record() still returns at once, overload is
counted per reason, and close() reports or spills what it held."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from adapters.memory import MemoryEventStore
from eventstore import streams
from eventstore.recorder import Fate, Recorder
from tests import backends
from tests.eventstore.recorder.conftest import HUB, check, sample

pytestmark = pytest.mark.anyio


anyio_backend = backends.asyncio_only


class BlockedStore(MemoryEventStore):
    """Appends never return: a backend that hangs."""

    async def _append(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        await anyio.sleep_forever()


async def test_record_never_waits_for_a_hung_backend_and_overload_is_counted() -> None:
    store = BlockedStore()
    with anyio.fail_after(30):
        recorder = Recorder(store, max_buffer=100, batch_size=10, max_delay=0.0)
        async with anyio.create_task_group() as tg:
            await tg.start(recorder.run)
            await anyio.sleep(0.05)  # the loop is now stuck in an append
            samples = [recorder.record(HUB, f"metrics/i{n % 3}", sample(n)) for n in range(300)]
            lifecycle = [recorder.record(HUB, "instance/a", check(n)) for n in range(200)]
            samples += [recorder.record(HUB, "metrics/new", sample(n)) for n in range(5)]
            # all 500 calls returned without the backend ever answering
            refused = [r for r in lifecycle if r.fate is Fate.REFUSED]
            assert refused and all(not r for r in refused)
            report = await recorder.close(timeout=0.2)
        counts = recorder.stats.of(HUB)
        assert counts.refused == len(refused)
        coalesced = [r for r in samples if r.fate is Fate.COALESCED]
        dropped = [r for r in samples if r.fate is Fate.DROPPED]
        assert counts.coalesced == len(coalesced) > 0
        assert counts.dropped == {"buffer_full": len(dropped)} and len(dropped) == 5
        # nothing was written, and close says so for every event it held
        assert (
            len(report.unwritten)
            == counts.unwritten
            == counts.recorded - len(coalesced) - len(dropped)
        )
        assert counts.pending == 0


async def test_close_spills_what_a_hung_backend_did_not_take(tmp_path: Path) -> None:
    with anyio.fail_after(30):
        recorder = Recorder(BlockedStore(), spill_dir=tmp_path, spill_after=60)
        async with anyio.create_task_group() as tg:
            await tg.start(recorder.run)
            receipts = [recorder.record(HUB, streams.instance("a"), check(n)) for n in range(10)]
            report = await recorder.close(timeout=0.2)
        assert report and not report.unwritten
        assert {r.fate for r in receipts} == {Fate.SPILLED}
        # the next process drains it first
        store = MemoryEventStore()
        async with Recorder(store, spill_dir=tmp_path) as again:
            await again.flush()
            assert await again.drain_spill()
        log = [e async for e in store.read_log(HUB) if e.stream == "instance/a"]
        assert [e.event_id for e in log] == [r.event.event_id for r in receipts]
