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
type never changes, a removed field is handled by an upcaster, and a field's
default never changes: a stored payload leaves out every field equal to its
default (``omit_defaults``), so reading fills in the default of the day.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal
from uuid import UUID

import msgspec
from uuid6 import uuid7

from .values import InstanceConfig, Metrics, ResourceStatus, ResourceType, UTCDateTime


class Event(
    msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag=True, omit_defaults=True
):
    """Base of every event.  ``event_id`` is made when the object is created,
    so appending the same objects again is recognisable as a retry (a
    factory's value, it is never left out of a payload as a default)."""

    category: ClassVar[str | None] = None
    schema_version: ClassVar[int] = 1

    # Time-ordered (UUIDv7): each new id lands at the end of the (hub_id,
    # event_id) index instead of dirtying a random page of it per event.
    event_id: UUID = msgspec.field(default_factory=uuid7)


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
    # The advisor's figures (projections/advisor.py); loads are per instance,
    # relative to max_concurrent (1.0 = every slot busy).
    p95_load: float = 0.0
    error_rate: float = 0.0
    trend: float = 0.0
    """Change of the average load per minute over the window."""
    samples: int = 0
    window_s: float = 0.0
    queue_depth: int | None = None
    decided_at: UTCDateTime | None = None


# --- the embedded recorder (eventstore/recorder) ------------------------------


class RecorderStats(Event, frozen=True, kw_only=True):
    """What one recorder did for this hub since it started (cumulative), so a
    replay knows which samples are missing and why.  Written on the ``hub``
    stream every ``stats_interval`` seconds while anything changed, and at close.
    """

    category = "hub"

    recorder: str
    """The recorder's name and run id: counts restart at 0 with a new run."""
    started_at: UTCDateTime
    recorded: int = 0
    refused: int = 0
    appended: int = 0
    coalesced: int = 0
    dropped: dict[str, int] = {}
    """Samples dropped, by reason (``buffer_full``, …)."""
    spilled: int = 0
    drained: int = 0
    rejected: int = 0
    damaged_bytes: int = 0


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


class RollupBucket(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
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
# Every lock event written by the lease service (``projections.deciders.leases``)
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


# --- stream "queue/<name>": requests waiting for a lease slot -----------------
# Like the lock events, every reservation event carries the queue's whole
# state after it (``waiting``, oldest first), so the stream's last event is all
# a decision reads.  ``decided_at`` is the backend-clock lower bound the writer
# judged heartbeats by; a waiter is live while ``expires_at > decided_at``.
# Gleitzeit's saved queue states (``QueueStateSaved``) live on their own
# ``queue/saved/<name>`` streams, never on a reservation queue.


class Requirements(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What an instance must offer to serve a request; empty = anything.
    Every listed tag, capability and model is required; ``instances``
    (when given) names the only instances that may serve it."""

    resource_type: ResourceType | None = None
    tags: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    instances: tuple[str, ...] = ()


class QueuedRequest(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One waiter, as a queue event lists the requests after it."""

    request_id: str
    owner: str
    requirements: Requirements = Requirements()
    ttl_s: float
    """The lease ttl asked for."""
    heartbeat_s: float
    queued_at: UTCDateTime
    expires_at: UTCDateTime
    """Dropped (``RequestExpired``) once the backend's clock passes this."""
    gives_up_at: UTCDateTime | None = None


class RequestQueued(Event, frozen=True, kw_only=True):
    """A request joined the tail of the queue."""

    category = "queue"

    request: QueuedRequest
    decided_at: UTCDateTime
    waiting: tuple[QueuedRequest, ...] = ()


class RequestRenewed(Event, frozen=True, kw_only=True):
    """A live waiter's heartbeat: its ``expires_at`` moved on."""

    category = "queue"

    request_id: str
    owner: str
    expires_at: UTCDateTime
    decided_at: UTCDateTime
    waiting: tuple[QueuedRequest, ...] = ()


class RequestGranted(Event, frozen=True, kw_only=True):
    """A waiter got lease ``token`` on ``instance_id`` and left the queue;
    ``free`` is how many slots the instance had before that lease."""

    category = "queue"

    request_id: str
    owner: str
    instance_id: str
    token: int
    free: int
    queued_at: UTCDateTime
    decided_at: UTCDateTime
    waiting: tuple[QueuedRequest, ...] = ()


class RequestAbandoned(Event, frozen=True, kw_only=True):
    """A waiter left the queue by itself: ``reason`` is ``timeout`` (its wait
    ran out), ``cancelled`` (its caller was cancelled) or ``failed``."""

    category = "queue"

    request_id: str
    owner: str
    reason: str
    queued_at: UTCDateTime
    decided_at: UTCDateTime
    waiting: tuple[QueuedRequest, ...] = ()


class RequestExpired(Event, frozen=True, kw_only=True):
    """A waiter whose heartbeat stopped, dropped by whoever changed the queue next."""

    category = "queue"

    request_id: str
    owner: str
    expires_at: UTCDateTime
    queued_at: UTCDateTime
    decided_at: UTCDateTime
    waiting: tuple[QueuedRequest, ...] = ()


class QueueStateSaved(Event, frozen=True, kw_only=True):
    """Gleitzeit's ``save_queue_state(queue_name, state)``: the whole state."""

    category = "queue"

    state: dict[str, Any]


class QueueStateDeleted(Event, frozen=True, kw_only=True):
    """Gleitzeit's ``delete_queue_state(queue_name)``."""

    category = "queue"


QueueEvent = RequestQueued | RequestRenewed | RequestGranted | RequestAbandoned | RequestExpired


HubEvent = (
    HubStarted
    | HubStopped
    | ScalingAdvised
    | RecorderStats
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
    | RequestQueued
    | RequestRenewed
    | RequestGranted
    | RequestAbandoned
    | RequestExpired
    | QueueStateSaved
    | QueueStateDeleted
)

CATALOGUE: tuple[type[Event], ...] = HubEvent.__args__

LIFECYCLE_EVENTS: frozenset[type[Event]] = frozenset(
    cls for cls in CATALOGUE if cls.category in ("hub", "instance", "lock")
)
