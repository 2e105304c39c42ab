"""A writer in its own process, for the SIGKILL test.

    python -m tests.eventstore.contract.kill_writer URL HUB NAME

Appends batches of 1-5 events forever, each batch tagged with the
correlation id ``<name>:<n>:<size>``, and prints ``ACK <name>:<n>:<size>``
once its append has returned (acknowledged).  Killed at a random moment by
the test.
"""

from __future__ import annotations

import sys

import anyio

from adapters import open_store
from tests.eventstore.contract.factories import checks


async def write(url: str, hub: str, name: str) -> None:
    async with open_store(url) as store:
        n = 0
        while True:
            size = 1 + n % 5
            tag = f"{name}:{n}:{size}"
            stream = f"instance/{name}" if n % 2 else "instance/shared"
            await store.append(hub, stream, checks(size), correlation_id=tag)
            print(f"ACK {tag}", flush=True)
            n += 1


if __name__ == "__main__":
    url, hub, name = sys.argv[1:4]
    anyio.run(write, url, hub, name)
