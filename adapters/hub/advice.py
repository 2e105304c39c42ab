"""Recording the scaling advisor's decisions: ``ScalingAdvised`` with its figures.

The advisor (:mod:`projections.advisor`) is pure; this is the glue that reads
a hub's metric history from its read models, asks it, and appends the
answer — through a recorder on a hub's hot path, or straight to the store.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from eventstore import streams
from eventstore.events import ScalingAdvised
from eventstore.recorder import Receipt, Recorder
from eventstore.store import EventStore
from projections import ReadModels
from projections.advisor import Advice, ScalingPolicy, advise


def scaling_advised(advice: Advice) -> ScalingAdvised:
    """The event recording ``advice``, every figure included."""
    return ScalingAdvised(
        action=advice.action,
        current_instances=advice.current_instances,
        suggested_instances=advice.suggested_instances,
        average_load=advice.average_load,
        reason=advice.reason,
        p95_load=advice.p95_load,
        error_rate=advice.error_rate,
        trend=advice.trend,
        samples=advice.samples,
        window_s=advice.window_s,
        queue_depth=advice.queue_depth,
        decided_at=advice.decided_at,
    )


def record_advice(recorder: Recorder, hub_id: str, advice: Advice) -> Receipt:
    """Record the advice on the hub's ``hub`` stream (never blocks)."""
    return recorder.record(hub_id, streams.HUB, scaling_advised(advice), durable=True)


async def append_advice(store: EventStore, hub_id: str, advice: Advice) -> None:
    """Raises: BackendUnavailable, InvalidEventError, StoreClosed."""
    await store.append(hub_id, streams.HUB, [scaling_advised(advice)])


async def advise_from_read_models(
    reader: ReadModels,
    hub_id: str,
    instance_ids: Iterable[str],
    *,
    policy: ScalingPolicy,
    now: datetime,
    queue: int | None = None,
    previous: Advice | None = None,
) -> Advice:
    """The advice on the raw samples of the policy's window ending ``now``.

    Raises: BackendUnavailable, StoreClosed.
    """
    start = now - timedelta(seconds=policy.window_s)
    history = {iid: await reader.samples(hub_id, iid, start, now) for iid in instance_ids}
    return advise(history, policy=policy, queue=queue, previous=previous)
