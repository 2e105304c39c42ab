"""A process that records with a spill file while its backend keeps going
away, for test_sigkill.py: ``python -m tests.eventstore.recorder.recording_child URL
SPILL_DIR ACKED_FILE FIRST [finish]``.

Prints ``DAMAGE <offset>`` or ``CLEAN`` (what it found in the spill file),
then ``READY``; appends the event id of every acknowledged event to
ACKED_FILE (fsynced) after each flush.  With ``finish`` the backend stays
up: it drains the spill file, prints ``DONE`` and exits.
"""

from __future__ import annotations

import os
import sys
import time

import anyio

from adapters import open_store
from eventstore import BackendUnavailable
from eventstore.recorder import Recorder
from tests.eventstore.recorder.conftest import HUB, check, sample


class Flaky:
    """The store's append, unreachable half of every second (the recorder
    needs only ``append`` and ``codec``)."""

    def __init__(self, store: object, flaky: bool) -> None:
        self.store, self.flaky = store, flaky
        self.codec = store.codec  # type: ignore[attr-defined]

    async def append(self, *args: object, **kwargs: object) -> object:
        if self.flaky and int(time.monotonic() * 2) % 2 == 0:
            raise BackendUnavailable("the test took the backend away")
        return await self.store.append(*args, **kwargs)  # type: ignore[attr-defined]


async def main(url: str, spill_dir: str, acked_path: str, first: int, finish: bool) -> None:
    async with open_store(url) as store:
        flaky = Flaky(store, flaky=not finish)
        recorder = Recorder(flaky, spill_dir=spill_dir, spill_after=0.05, max_delay=0.01)  # type: ignore[arg-type]
        async with recorder:
            damage = recorder.damage
            print("CLEAN" if damage is None else f"DAMAGE {damage.offset}", flush=True)
            if finish:
                with anyio.fail_after(30):
                    while not await recorder.drain_spill():
                        await anyio.sleep(0.05)
                print("DONE", flush=True)
                return
            print("READY", flush=True)
            acked = os.open(acked_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            await record_forever(recorder, first, acked)


async def record_forever(recorder: Recorder, n: int, acked: int) -> None:
    while True:
        receipts = []
        for _ in range(5):
            receipts.append(recorder.record(HUB, "instance/a", check(n)))
            receipts.append(recorder.record(HUB, "metrics/a", sample(n)))
            n += 1
        await recorder.flush()
        lines = "".join(f"{r.event.event_id}\n" for r in receipts if r.acknowledged)
        os.write(acked, lines.encode())
        os.fsync(acked)


if __name__ == "__main__":
    url, spill_dir, acked_path, first = sys.argv[1:5]
    anyio.run(main, url, spill_dir, acked_path, int(first), sys.argv[5:] == ["finish"])
