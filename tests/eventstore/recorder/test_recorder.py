"""The recorder on every backend: order, idempotency, acknowledgement,
overload accounting, and a record() that never waits on the backend."""

from __future__ import annotations

import anyio
import pytest

from eventstore import EventStore, InvalidEventError
from eventstore.recorder import Fate, Recorder, RecorderError
from tests.eventstore.recorder.conftest import HUB, check, sample

pytestmark = pytest.mark.anyio


async def test_one_streams_events_arrive_in_order_once(store: EventStore) -> None:
    with anyio.fail_after(30):
        async with Recorder(store, batch_size=7, max_delay=0.01) as recorder:
            receipts = [recorder.record(HUB, "instance/a", check(n)) for n in range(50)]
            receipts += [recorder.record(HUB, "metrics/a", sample(n)) for n in range(20)]
            await recorder.flush()
            assert {r.fate for r in receipts} == {Fate.APPENDED}
            # a batch the loop retries (same event ids) is answered, not doubled
            await store.append(HUB, "instance/a", [receipts[0].event])
    log = [e async for e in store.read_log(HUB)]
    checks = [e.event.latency_ms for e in log if e.stream == "instance/a"]
    assert checks == [float(n) for n in range(50)]
    assert [e.event.metrics.request_count for e in log if e.stream == "metrics/a"] == list(
        range(20)
    )
    assert len({e.event_id for e in log}) == len(log)
    stats = [e.event for e in log if e.type == "RecorderStats"]
    assert len(stats) == 1 and (stats[0].recorded, stats[0].appended) == (70, 70)


async def test_a_durable_receipt_is_acknowledged_when_awaited(store: EventStore) -> None:
    with anyio.fail_after(30):
        async with Recorder(store, max_delay=60) as recorder:  # only durable=True starts a batch
            receipt = recorder.record(HUB, "instance/a", check(1), durable=True)
            assert await receipt is Fate.APPENDED and receipt.acknowledged
            assert await store.stream_version(HUB, "instance/a") == 1


async def test_record_checks_names_and_streams(store: EventStore) -> None:
    recorder = Recorder(store)
    with pytest.raises(InvalidEventError):
        recorder.record("bad {hub}", "instance/a", check(1))
    with pytest.raises(InvalidEventError):
        recorder.record(HUB, "metrics/a", check(1))  # a health check is no metric
    recorder.record(HUB, "instance/a", check(1))
    with pytest.raises(RecorderError):
        await recorder.flush()  # not running: nothing would ever write
    await recorder.close()
