"""A real Gleitzeit OllamaHub on hublog, run as a child process by
test_gleitzeit.py: ``python -m tests.adapters.hub.gleitzeit_node first|second URL PORT...``.

It speaks a line protocol on stdout (``REGISTERED``, ``READY <json>``,
``RESTORED <json>``) and reads ``GO`` lines on stdin.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta

from gleitzeit.hub import OllamaConfig, OllamaHub, ResourceStatus

from adapters.hub import HubPersistenceAdapter, attach, restore

HUB = "gleitzeit-pool"
INTERVAL = 0.2


def say(line: str) -> None:
    print(line, flush=True)


async def wait_for(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(60):
        while not await predicate():
            await asyncio.sleep(0.05)


def make_hub(adapter: HubPersistenceAdapter) -> OllamaHub:
    hub = OllamaHub(hub_id=HUB, auto_discover=False, persistence=adapter)
    hub.health_check_interval = INTERVAL
    hub.enable_auto_recovery = False
    return hub


async def first(url: str, ports: list[int]) -> None:
    adapter = HubPersistenceAdapter(url)
    hub = make_hub(adapter)
    attachment = attach(hub, adapter, persistence_interval=INTERVAL)
    await hub.initialize()
    await hub.start()
    ids = []
    for port in ports:
        instance = await hub.create_resource(OllamaConfig(host="127.0.0.1", port=port))
        await hub.register_instance_object(instance)
        ids.append(instance.id)
    say("REGISTERED")
    sys.stdin.readline()  # the parent has stopped the second server
    failing, gone, kept = ids[1], ids[2], ids[0]

    async def unhealthy() -> bool:
        return hub.instances[failing].status is ResourceStatus.UNHEALTHY

    await wait_for(unhealthy, "unhealthy")
    await hub.unregister_instance(gone)

    async def sampled() -> bool:
        now = datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as Gleitzeit
        history = await adapter.get_metrics_history(kept, now - timedelta(hours=1), now)
        return len(history) >= 5

    await wait_for(sampled, "metrics")
    await asyncio.sleep(3 * INTERVAL)  # a few more samples, and the last status events
    known = {
        i.id: {"status": i.status.value, "port": i.config.port} for i in hub.instances.values()
    }
    say("READY " + json.dumps({"known": known, "failures": attachment.failures}))
    await asyncio.sleep(3600)  # until SIGKILL


async def second(url: str) -> None:
    adapter = HubPersistenceAdapter(url)
    hub = make_hub(adapter)
    await hub.initialize()
    report = await restore(hub, adapter)
    now = datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as Gleitzeit
    restored = {}
    for instance in hub.instances.values():
        history = await adapter.get_metrics_history(instance.id, now - timedelta(hours=1), now)
        restored[instance.id] = {
            "status": instance.status.value,
            "endpoint": instance.endpoint,
            "capabilities": sorted(instance.capabilities),
            "tags": sorted(instance.tags),
            "config": {
                "port": instance.config.port,
                "max_concurrent": instance.config.max_concurrent,
            },
            "timestamps": [h["timestamp"] for h in history],
        }
    await hub.session.close()
    await adapter.shutdown()
    say("RESTORED " + json.dumps({"instances": restored, "report": report.healthy}))


if __name__ == "__main__":
    mode, url, *ports = sys.argv[1:]
    if mode == "first":
        asyncio.run(first(url, [int(p) for p in ports]))
    else:
        asyncio.run(second(url))
