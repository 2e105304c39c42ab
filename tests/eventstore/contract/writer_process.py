"""A writer in its own process, for the concurrency test.

    python -m tests.eventstore.contract.writer_process URL HUB NAME BATCHES

Appends BATCHES batches of 1-3 events, alternating between its own stream and
a stream shared with every other writer, and prints each written event id.
"""

from __future__ import annotations

import sys

import anyio

from adapters import open_store
from tests.eventstore.contract.factories import checks


async def write(url: str, hub: str, name: str, batches: int) -> None:
    async with open_store(url) as store:
        for i in range(batches):
            stream = f"instance/{name}" if i % 2 else "instance/shared"
            batch = checks(1 + i % 3)
            await store.append(hub, stream, batch)
            for event in batch:
                print(event.event_id, flush=True)


if __name__ == "__main__":
    url, hub, name, batches = sys.argv[1:5]
    anyio.run(write, url, hub, name, int(batches))
