"""A runner process for the SIGKILL test: ``python -m tests.projections.kill_child URL HUB PAUSE_AT``.

Runs the standard projections of HUB up to the log's end, one batch of 25
events per commit, printing ``COMMITTED <projection> <position>`` after each
commit.  Its PAUSE_AT-th commit (0: none) prints ``IN-COMMIT <projection>
<after> <position>`` inside the transaction, after every row is written and
before COMMIT, and waits there to be killed (SQL only).  With PAUSE_AT 0 it
runs on any backend, through the read-model store beside the log.
"""

from __future__ import annotations

import sys
import time

import anyio
import sqlalchemy as sa

from adapters import open_store, readmodel_store_for
from adapters.sql.readmodels import SQLReadModelStore
from eventstore import EventStore
from projections import ProjectionRunner, ReadModelStore, standard_projections
from projections.readmodel_store import Commit


class PausingStore(SQLReadModelStore):
    def __init__(self, url: str, pause_at: int) -> None:
        super().__init__(url)
        self.pause_at = pause_at
        self.commits = 0

    def _write(self, conn: sa.Connection, commit: Commit) -> None:
        super()._write(conn, commit)
        self.commits += 1
        if self.commits == self.pause_at:
            print(f"IN-COMMIT {commit.projection} {commit.after} {commit.position}", flush=True)
            time.sleep(60)  # the test kills us here, mid-transaction


async def main(url: str, hub: str, pause_at: int) -> None:
    async with open_store(url) as store:
        storage = PausingStore(url, pause_at) if pause_at else readmodel_store_for(store)
        async with storage:
            await run(store, storage, hub)
    print("DONE", flush=True)


async def run(store: EventStore, storage: ReadModelStore, hub: str) -> None:
    for projection in standard_projections():

        def committed(position: int, name: str = projection.name) -> None:
            print(f"COMMITTED {name} {position}", flush=True)

        runner = ProjectionRunner(
            store, storage, projection, hub, batch_size=25, on_batch=committed
        )
        await runner.catch_up()


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2], int(sys.argv[3]))
