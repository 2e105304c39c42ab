"""Run in a child process by the hub tests: ``python -m tests.adapters.hub.worker MODE URL ...``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import anyio

from adapters.hub import HubPersistenceAdapter
from tests.adapters.hub.instances import Instance, Metrics, Status

HUB = "ollama-pool"


async def save(url: str, who: str, rounds: int) -> None:
    """Save the same instance ``rounds`` times, flipping its status."""
    async with HubPersistenceAdapter(url) as adapter:
        instance = Instance("shared", metadata={"writer": who})
        for n in range(rounds):
            instance.status = Status.HEALTHY if n % 2 == 0 else Status.UNKNOWN
            await adapter.save_instance(HUB, instance)


async def tz(url: str) -> None:
    """Naive times are UTC whatever TZ says: a window around utcnow finds the
    sample, one shifted by the local offset does not."""
    async with HubPersistenceAdapter(url) as adapter:
        await adapter.save_instance(HUB, Instance("tz"))
        before = datetime.now(UTC).replace(tzinfo=None)
        await adapter.save_metrics("tz", Metrics(request_count=1))
        after = datetime.now(UTC).replace(tzinfo=None)
        local = datetime.now()  # America/Denver: hours away from UTC
        assert abs(local - after) > timedelta(hours=1), "TZ is not set in the child"
        found = await adapter.get_metrics_history("tz", before, after)
        shifted = await adapter.get_metrics_history("tz", local - timedelta(minutes=1), local)
        assert [h["request_count"] for h in found] == [1], found
        assert shifted == [], shifted
        assert before.isoformat() <= found[0]["timestamp"] <= after.isoformat()


if __name__ == "__main__":
    mode, url, *rest = sys.argv[1:]
    if mode == "save":
        anyio.run(save, url, rest[0], int(rest[1]))
    else:
        anyio.run(tz, url)
