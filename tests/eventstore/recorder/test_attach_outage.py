"""``attach`` on a backend that is down from the start: the hub's first
events are spilled, not counted as failures, and reach the log once a
recorder drains the spill file into the backend that "returned"."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from adapters import open_store
from adapters.hub import HubPersistenceAdapter, attach
from eventstore import HubStarted
from eventstore.events import RecorderStats
from eventstore.recorder import Recorder
from tests.backends import SHARED_BACKENDS, backend_fixture
from tests.servers import free_port

gleitzeit = pytest.importorskip(
    "gleitzeit.hub", reason="install the gleitzeit extra: pip install -e '.[gleitzeit]'"
)

HUB = "down-hub"
pytestmark = pytest.mark.anyio


# The backend that "returns": where the spill file is drained.
backend = backend_fixture(SHARED_BACKENDS)


async def test_events_of_an_outage_from_the_start_are_spilled_then_drained(
    store_url: str, tmp_path: Path
) -> None:
    # Nothing listens on a free port: every open is refused, as with a server down.
    down = HubPersistenceAdapter(f"redis://127.0.0.1:{free_port()}/0")
    hub = gleitzeit.OllamaHub(hub_id=HUB, auto_discover=False)
    attachment = attach(
        hub, down, persistence_interval=3600, spill_dir=str(tmp_path),
        spill_after=0.05, close_timeout=0.5,
    )  # fmt: skip
    with anyio.fail_after(30):
        await attachment.on_hub_started({})
        await attachment.on_status_changed(
            {"instance_id": "ollama-1", "old_status": "unknown", "new_status": "healthy"}
        )
        recorder = attachment.recorder
        assert recorder is not None
        await recorder.flush()
        spilled = recorder.stats.of(HUB).spilled
        await attachment.stop_sampler()
        await attachment.close()
        await down.shutdown()
    assert (attachment.failures, attachment.delivered) == (0, 2), attachment.last_error
    assert spilled >= 2  # HubStarted and the instance's health events

    with anyio.fail_after(30):
        async with open_store(store_url) as store:
            async with Recorder(store, spill_dir=tmp_path, name=f"attach-{HUB}") as drain:
                assert await drain.drain_spill()
            log = [e async for e in store.read_log(HUB)]
    recorded = [e for e in log if not isinstance(e.event, RecorderStats)]
    assert len(recorded) == spilled and len({e.event_id for e in log}) == len(log)
    assert isinstance(recorded[0].event, HubStarted)
    assert {e.stream for e in recorded} == {"hub", "instance/ollama-1"}
