"""Typed reads of stored read models: what the hub-facing API and the CLI use."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventstore.events import RollupBucket

from . import codec, keys
from .errors import InvalidQuery
from .health import CheckRow, HealthHead, HealthProjection, TransitionRow
from .hub import HubProjection, HubSummary, InstanceState, LeaseState
from .metrics import TABLE_BY_RESOLUTION, MetricsProjection, SampleRow
from .readmodel import Anomaly, Projection, Quarantined
from .readmodel_store import ReadModelStore

_HUB, _HEALTH, _METRICS = HubProjection(), HealthProjection(), MetricsProjection()


class ReadModels:
    """Reads rows of the standard projections from a :class:`ReadModelStore`."""

    def __init__(self, storage: ReadModelStore) -> None:
        self.storage = storage

    async def rows(
        self,
        projection: Projection[Any],
        hub_id: str,
        table: str,
        *,
        start: str | None = None,
        stop: str | None = None,
        limit: int | None = None,
    ) -> list[tuple[str, Any]]:
        """Decoded rows of any table, in key order.

        Raises: InvalidQuery for a table the projection does not have.
        """
        row_type = _row_type(projection, table)
        found = await self.storage.scan(
            projection.name, hub_id, table, start=start, stop=stop, limit=limit
        )
        return [(key, codec.decode(data, row_type)) for key, data in found]

    async def all_rows(self, projection: Projection[Any], hub_id: str) -> dict[str, dict[str, Any]]:
        """Every stored row of a read model: ``{table: {key: row}}``."""
        result = {}
        for table in await self.storage.tables(projection.name, hub_id):
            result[table] = dict(await self.rows(projection, hub_id, table))
        return result

    async def instances(self, hub_id: str, *, include_removed: bool = False) -> list[InstanceState]:
        rows = [row for _, row in await self.rows(_HUB, hub_id, "instances")]
        return rows if include_removed else [r for r in rows if r.registered]

    async def instance(self, instance_id: str) -> tuple[str, InstanceState] | None:
        """``(hub_id, instance)`` of a registered instance in any hub, or None."""
        for hub_id, data in await self.storage.find(_HUB.name, "instances", instance_id):
            instance = codec.decode(data, InstanceState)
            if instance.registered:
                return hub_id, instance
        return None

    async def locks(self, hub_id: str) -> dict[str, LeaseState]:
        return dict(await self.rows(_HUB, hub_id, "locks"))

    async def summary(self, hub_id: str) -> HubSummary | None:
        data = await self.storage.get(_HUB.name, hub_id, "summary", "")
        return None if data is None else codec.decode(data, HubSummary)

    async def health(self, hub_id: str, instance_id: str) -> HealthHead | None:
        data = await self.storage.get(_HEALTH.name, hub_id, "instances", instance_id)
        return None if data is None else codec.decode(data, HealthHead)

    async def checks(self, hub_id: str, instance_id: str) -> list[CheckRow]:
        start, stop = keys.entity_span(instance_id)
        return [r for _, r in await self.rows(_HEALTH, hub_id, "checks", start=start, stop=stop)]

    async def transitions(self, hub_id: str, instance_id: str) -> list[TransitionRow]:
        start, stop = keys.entity_span(instance_id)
        return [
            r for _, r in await self.rows(_HEALTH, hub_id, "transitions", start=start, stop=stop)
        ]

    async def samples(
        self,
        hub_id: str,
        instance_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[SampleRow]:
        """Raw samples with ``start <= sampled_at < end``, oldest first."""
        low, high = _time_span(instance_id, start, end)
        return [r for _, r in await self.rows(_METRICS, hub_id, "samples", start=low, stop=high)]

    async def rollups(
        self,
        hub_id: str,
        instance_id: str,
        resolution_s: int,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[RollupBucket]:
        """Buckets of 60 or 3600 seconds starting in ``[start, end)``, oldest first.

        Raises: InvalidQuery for another resolution.
        """
        table = TABLE_BY_RESOLUTION.get(resolution_s)
        if table is None:
            raise InvalidQuery(f"rollups come in 60 and 3600 seconds, not {resolution_s!r}")
        low, high = _time_span(instance_id, start, end)
        return [r for _, r in await self.rows(_METRICS, hub_id, table, start=low, stop=high)]

    async def anomalies(self, projection: Projection[Any], hub_id: str) -> list[Anomaly]:
        return [r for _, r in await self.rows(projection, hub_id, "anomalies")]

    async def quarantined(self, projection: Projection[Any], hub_id: str) -> list[Quarantined]:
        return [r for _, r in await self.rows(projection, hub_id, "quarantine")]


def _row_type(projection: Projection[Any], table: str) -> type:
    types = codec.row_types(projection)
    if table not in types:
        raise InvalidQuery(
            f"projection {projection.name!r} has no table {table!r} (it has {sorted(types)})"
        )
    return types[table]


def _time_span(instance_id: str, start: datetime | None, end: datetime | None) -> tuple[str, str]:
    low, high = keys.entity_span(instance_id)
    if start is not None:
        low = keys.join(instance_id, keys.ts(start))
    if end is not None:
        high = keys.join(instance_id, keys.ts(end))
    return low, high
