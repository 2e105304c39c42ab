"""The event catalogue: every fact a hub can append, as frozen msgspec Structs.

One base class, one tagged union (:data:`HubEvent`), tag = class name = the
stored ``type``.  The entity an event is about is named by its stream
(``instance/<id>``, ``metrics/<id>``, ``lock/<resource>``), not repeated in the
payload, so the two can never disagree.

Each event class declares

* ``category`` — the stream kind it may be appended to (checked by append);
* ``schema_version`` — bumped when a stored payload needs an upcaster to
  become the current Struct (see :mod:`eventstore.codec`).

Schema-evolution rules, after msgspec's: new fields get defaults, a field's
type never changes, a removed field is handled by an upcaster.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal
from uuid import UUID, uuid4

import msgspec

from .values import InstanceConfig, Metrics, ResourceStatus, ResourceType, UTCDateTime


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag=True):
    """Base of every event.  ``event_id`` is made when the object is created,
    so appending the same objects again is recognisable as a retry."""

    category: ClassVar[str | None] = None
    schema_version: ClassVar[int] = 1

    event_id: UUID = msgspec.field(default_factory=uuid4)


# --- stream "hub" -------------------------------------------------------------


class HubStarted(Event, frozen=True, kw_only=True):
    category = "hub"

    resource_type: ResourceType
    node_id: str = ""
    health_check_interval: float = 30.0
    max_health_failures: int = 3
    metrics_interval: float = 30.0
    auto_recovery: bool = True
    settings: dict[str, Any] = {}


class HubStopped(Event, frozen=True, kw_only=True):
    category = "hub"

    node_id: str = ""
    reason: str = ""


class ScalingAdvised(Event, frozen=True, kw_only=True):
    category = "hub"

    action: Literal["scale_up", "scale_down", "hold"]
    current_instances: int
    suggested_instances: int
    average_load: float = 0.0
    reason: str = ""


# --- stream "instance/<id>" ---------------------------------------------------


class InstanceRegistered(Event, frozen=True, kw_only=True):
    """Every field of Gleitzeit's ``ResourceInstance`` (the id is the stream)."""

    category = "instance"

    name: str
    resource_type: ResourceType
    endpoint: str
    status: ResourceStatus = ResourceStatus.UNKNOWN
    metadata: dict[str, Any] = {}
    tags: frozenset[str] = frozenset()
    capabilities: frozenset[str] = frozenset()
    metrics: Metrics = Metrics()
    health_checks_failed: int = 0
    last_health_check: UTCDateTime | None = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None
    config: InstanceConfig | None = None


class InstanceUpdated(Event, frozen=True, kw_only=True):
    """Descriptive fields that changed; a field left UNSET did not change.

    Status, health and metrics never change through this event: they move
    only by health and metrics events, so the projection can check them.
    """

    category = "instance"

    name: str | msgspec.UnsetType = msgspec.UNSET
    endpoint: str | msgspec.UnsetType = msgspec.UNSET
    metadata: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET
    tags: frozenset[str] | msgspec.UnsetType = msgspec.UNSET
    capabilities: frozenset[str] | msgspec.UnsetType = msgspec.UNSET
    config: InstanceConfig | None | msgspec.UnsetType = msgspec.UNSET


class HealthChecked(Event, frozen=True, kw_only=True):
    category = "instance"

    ok: bool
    checked_at: UTCDateTime
    latency_ms: float | None = None
    error: str | None = None
    consecutive_failures: int = 0


class HealthChanged(Event, frozen=True, kw_only=True):
    category = "instance"

    from_status: ResourceStatus
    to_status: ResourceStatus
    reason: str = ""
    consecutive_failures: int = 0


class InstanceRecovered(Event, frozen=True, kw_only=True):
    category = "instance"

    method: str = "restart"
    attempt: int = 1
    config: InstanceConfig | None | msgspec.UnsetType = msgspec.UNSET


class RecoveryFailed(Event, frozen=True, kw_only=True):
    category = "instance"

    error: str = ""
    attempt: int = 1


class InstanceDeregistered(Event, frozen=True, kw_only=True):
    category = "instance"

    reason: str = ""


# --- stream "metrics/<id>" ----------------------------------------------------


class MetricsSampled(Event, frozen=True, kw_only=True):
    """One whole ``ResourceMetrics`` sample; Gleitzeit replaces metrics whole."""

    category = "metrics"

    metrics: Metrics
    sampled_at: UTCDateTime


class RollupBucket(msgspec.Struct, frozen=True, kw_only=True):
    """Aggregates of one series' samples in one bucket [start, start + resolution).

    Exactly the row the metric-history read model holds for that bucket, so a
    rebuild that finds the bucket here instead of in raw samples agrees.
    Only samples whose time increased over the series' previous one count.
    """

    start: UTCDateTime
    count: int
    # metric name -> (min, max, mean) over the bucket's samples: every numeric
    # field of Metrics, and numeric custom metrics as "custom.<name>"
    stats: dict[str, tuple[float, float, float]]
    # nearest-rank 95th percentile of the samples' avg_response_time_ms
    p95_response_time_ms: float
    # requests and errors counted between consecutive samples of one
    # incarnation within one hour (a counter that went down restarts at 0)
    request_delta: int = 0
    error_delta: int = 0

    @property
    def error_rate(self) -> float:
        """Errors per request in the bucket, in percent (0 without requests)."""
        return self.error_delta / self.request_delta * 100 if self.request_delta > 0 else 0.0


class MetricsRolledUp(Event, frozen=True, kw_only=True):
    """Aggregates of raw samples, appended before retention may remove them.

    ``resolution_s`` is 60 or 3600.  ``through_version`` is the last
    ``metrics/<id>`` stream version covered: retention removes samples up to
    it only after this event is in the log, so a rebuild after the raw
    samples are gone yields the same rollups.  ``until`` is the hour before
    which every sample of the stream is summarised by such events.  The
    buckets are authoritative: a fold sets its rows for these buckets to them.
    """

    category = "metrics"

    resolution_s: int
    through_version: int
    buckets: tuple[RollupBucket, ...]
    until: UTCDateTime | None = None


# --- stream "lock/<resource_id>" ----------------------------------------------
#
# Every lock event written by the lease service (``projections.leases``)
# carries the resource's whole state after it — ``capacity`` and ``holders`` —
# so the stream's last event is all a decision needs to read, however long the
# history.  ``decided_at`` is the backend-clock time the writer judged expiry
# by (a lower bound of the backend's clock, never later than the event's own
# ``recorded_at`` and never earlier than the stream's previous event's); new
# expiries are ``decided_at + ttl_s``.  Events written before these fields
# existed read back with them None: the state is then the fold of the stream.


class LeaseHolder(msgspec.Struct, frozen=True, kw_only=True):
    """One unexpired lease, as a lock event lists the holders after it."""

    owner: str
    token: int
    ttl_s: float
    expires_at: UTCDateTime


class LockGranted(Event, frozen=True, kw_only=True):
    """A lease granted; ``token`` is the lock stream's version at the grant."""

    category = "lock"

    owner: str
    token: int
    ttl_s: float
    expires_at: UTCDateTime
    capacity: int = 1
    decided_at: UTCDateTime | None = None
    holders: tuple[LeaseHolder, ...] | None = None


class LockRenewed(Event, frozen=True, kw_only=True):
    """A live lease extended to ``expires_at`` by its holder."""

    category = "lock"

    owner: str
    token: int
    ttl_s: float
    expires_at: UTCDateTime
    capacity: int | None = None
    decided_at: UTCDateTime | None = None
    holders: tuple[LeaseHolder, ...] | None = None


class LockReleased(Event, frozen=True, kw_only=True):
    """A live lease given back by its holder; ``ttl_s``/``expires_at`` are
    the lease's as it was."""

    category = "lock"

    owner: str
    token: int
    ttl_s: float | None = None
    expires_at: UTCDateTime | None = None
    capacity: int | None = None
    decided_at: UTCDateTime | None = None
    holders: tuple[LeaseHolder, ...] | None = None


class LockExpired(Event, frozen=True, kw_only=True):
    """A lease seen to have run out (by whoever touched the lock next)."""

    category = "lock"

    owner: str
    token: int
    ttl_s: float | None = None
    expires_at: UTCDateTime | None = None
    capacity: int | None = None
    decided_at: UTCDateTime | None = None
    holders: tuple[LeaseHolder, ...] | None = None


LockEvent = LockGranted | LockRenewed | LockReleased | LockExpired


HubEvent = (
    HubStarted
    | HubStopped
    | ScalingAdvised
    | InstanceRegistered
    | InstanceUpdated
    | HealthChecked
    | HealthChanged
    | InstanceRecovered
    | RecoveryFailed
    | InstanceDeregistered
    | MetricsSampled
    | MetricsRolledUp
    | LockGranted
    | LockRenewed
    | LockReleased
    | LockExpired
)

CATALOGUE: tuple[type[Event], ...] = HubEvent.__args__

LIFECYCLE_EVENTS: frozenset[type[Event]] = frozenset(
    cls for cls in CATALOGUE if cls.category in ("hub", "instance", "lock")
)
