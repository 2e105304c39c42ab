"""The read side: pure folds from hublog events to read models (imports
``eventstore`` only), the checkpointed runner, point-in-time state,
snapshots and the scaling advisor (a pure function of read models).

The write side — leases, the reservation queue, retention, instance
changes: each a pure decision run by the one read-decide-append loop — is
:mod:`projections.deciders`; no fold or read model imports it (an
import-linter contract).

The standard read models, one projection each::

    hub      instances, lock table, hub summary   (HubProjection)
    health   health history                       (HealthProjection)
    metrics  metric history: samples, rollups     (MetricsProjection)
"""

from __future__ import annotations

from .errors import CheckpointConflict, InvalidQuery, ProjectionError, ProjectionOutdated
from .folding import Folder, fold, rows
from .health import CheckRow, HealthHead, HealthHistory, HealthProjection, TransitionRow
from .hub import Holder, HubInfo, HubProjection, HubState, HubSummary, InstanceState, LeaseState
from .metrics import MetricHistory, MetricsProjection, SampleRow, SeriesHead
from .pointintime import HubView, state_at
from .policy import RetentionPolicy
from .reader import ReadModels
from .readmodel import Anomaly, Meta, Projection, Quarantined, ReadModel
from .readmodel_store import Checkpoint, Commit, ReadModelStore, Snapshot
from .runner import ProjectionRunner, rebuild, rebuild_all


def standard_projections(policy: RetentionPolicy | None = None) -> list[Projection]:
    """The hub, health and metrics projections (metrics with ``policy``)."""
    return [HubProjection(), HealthProjection(), MetricsProjection(policy)]


__all__ = [
    "Anomaly",
    "CheckRow",
    "Checkpoint",
    "CheckpointConflict",
    "Commit",
    "Folder",
    "HealthHead",
    "HealthHistory",
    "HealthProjection",
    "Holder",
    "HubInfo",
    "HubProjection",
    "HubState",
    "HubSummary",
    "HubView",
    "InstanceState",
    "InvalidQuery",
    "LeaseState",
    "Meta",
    "MetricHistory",
    "MetricsProjection",
    "Projection",
    "ProjectionError",
    "ProjectionOutdated",
    "ProjectionRunner",
    "Quarantined",
    "ReadModel",
    "ReadModelStore",
    "ReadModels",
    "RetentionPolicy",
    "SampleRow",
    "SeriesHead",
    "Snapshot",
    "TransitionRow",
    "fold",
    "rebuild",
    "rebuild_all",
    "rows",
    "standard_projections",
    "state_at",
]
