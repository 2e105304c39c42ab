"""Recording the scaling advisor's decisions: ``ScalingAdvised`` with its figures.

The advisor (:mod:`projections.advisor`) is pure; this is the glue that reads
a hub's metric history and its queue from their read models, asks it, and
appends the answer — through a recorder on a hub's hot path, or straight to
the store.  A queue of waiting requests is a reason to scale up however idle
the instances look: they are full, not idle, when requests wait.
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
from projections.queue import QueueStats

from .adapter import HubPersistenceAdapter


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
    queue: QueueStats | int | None = None,
    previous: Advice | None = None,
) -> Advice:
    """The advice on the raw samples of the policy's window ending ``now``,
    with the hub's queue (its stats, or a depth) as a reason to scale up.

    Raises: BackendUnavailable, StoreClosed.
    """
    start = now - timedelta(seconds=policy.window_s)
    history = {iid: await reader.samples(hub_id, iid, start, now) for iid in instance_ids}
    depth = queue.depth if isinstance(queue, QueueStats) else queue
    return advise(history, policy=policy, queue=depth, previous=previous)


async def advise_hub(
    persistence: HubPersistenceAdapter,
    hub_id: str,
    *,
    policy: ScalingPolicy,
    now: datetime,
    previous: Advice | None = None,
) -> Advice:
    """The advice for a hub from its read models, caught up to the log's end:
    its live instances' metric history and its reservation queue.

    Raises: BackendUnavailable, InvalidEventError, StoreClosed.
    """
    instances = await persistence.live_instances(hub_id)
    await persistence.session.caught_up("metrics", hub_id)
    return await advise_from_read_models(
        await persistence.session.reader(),
        hub_id,
        [i.id for i in instances],
        policy=policy,
        now=now,
        queue=await persistence.queue_stats(hub_id),
        previous=previous,
    )
