"""Several processes on one log: concurrent saves of one instance, and a
child whose time zone is not UTC."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from adapters.hub import HubPersistenceAdapter
from eventstore import streams
from tests.backends import SHARED_BACKENDS, Backend

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[3]
LIMIT = 120


def worker(*args: str, tz: str | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    if tz is not None:
        env["TZ"] = tz
    return subprocess.Popen(
        [sys.executable, "-m", "tests.adapters.hub.worker", *args], cwd=ROOT, env=env
    )


def wait(*children: subprocess.Popen[bytes]) -> None:
    for child in children:
        assert child.wait(timeout=LIMIT) == 0


@pytest.mark.parametrize("backend", SHARED_BACKENDS, ids=[b.id for b in SHARED_BACKENDS])
async def test_two_processes_saving_one_instance_register_it_once(
    backend: Backend, store_url: str
) -> None:
    wait(worker("save", store_url, "a", "20"), worker("save", store_url, "b", "20"))

    with anyio.fail_after(LIMIT):
        async with HubPersistenceAdapter(store_url) as adapter:
            store = await adapter.session.store()
            events = [e async for e in store.read_stream("ollama-pool", streams.instance("shared"))]
            state = await adapter.load_instance("shared")

    kinds = [e.type for e in events]
    assert kinds.count("InstanceRegistered") == 1
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    # every save's difference was applied to the state it was decided on:
    # each HealthChanged starts where the one before ended
    changes = [e.event for e in events if e.type == "HealthChanged"]
    assert all(a.to_status == b.from_status for a, b in itertools.pairwise(changes))
    assert state is not None and state["metadata"]["writer"] in ("a", "b")


def test_naive_times_are_utc_in_any_time_zone(backend: Backend, store_url: str) -> None:
    wait(worker("tz", store_url, tz="America/Denver"))
