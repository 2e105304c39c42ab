"""hublog's event log: the catalogue, the envelope, the codec and the store contract.

Imports nothing of ``projections`` or ``adapters``; backends live in ``adapters``.
"""

from . import streams
from .codec import DEFAULT_CODEC, Codec, Upcasters
from .envelope import (
    ANY,
    NO_STREAM,
    AppendResult,
    CorruptEvent,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    StoredEvent,
    UnknownEvent,
)
from .errors import (
    BackendUnavailable,
    DuplicateEventError,
    EventDecodeError,
    EventStoreError,
    InvalidEventError,
    SchemaVersionError,
    StoreClosed,
    StoreConfigurationError,
    WrongExpectedVersion,
)
from .events import (
    CATALOGUE,
    Event,
    HealthChanged,
    HealthChecked,
    HubEvent,
    HubStarted,
    HubStopped,
    InstanceDeregistered,
    InstanceRecovered,
    InstanceRegistered,
    InstanceUpdated,
    LockExpired,
    LockGranted,
    LockReleased,
    LockRenewed,
    MetricsRolledUp,
    MetricsSampled,
    RecoveryFailed,
    RollupBucket,
    ScalingAdvised,
)
from .store import EventStore
from .values import (
    CustomConfig,
    DockerConfig,
    InstanceConfig,
    Metrics,
    OllamaConfig,
    ResourceStatus,
    ResourceType,
)

__all__ = [
    "ANY", "NO_STREAM", "AppendResult", "BackendUnavailable", "CATALOGUE", "Codec",
    "CorruptEvent", "CustomConfig", "DEFAULT_CODEC", "DockerConfig", "DuplicateEventError",
    "Event", "EventDecodeError", "EventStore", "EventStoreError", "ExpectedVersion",
    "HealthChanged", "HealthChecked", "HubEvent", "HubStarted", "HubStopped",
    "InstanceConfig", "InstanceDeregistered", "InstanceRecovered", "InstanceRegistered",
    "InstanceUpdated", "InvalidEventError", "LockExpired", "LockGranted", "LockReleased",
    "LockRenewed", "Metrics", "MetricsRolledUp", "MetricsSampled", "NewEvent", "OllamaConfig",
    "RecordedEvent", "RecoveryFailed", "ResourceStatus", "ResourceType", "RollupBucket",
    "ScalingAdvised", "SchemaVersionError", "StoreClosed", "StoreConfigurationError",
    "StoredEvent", "UnknownEvent", "Upcasters", "WrongExpectedVersion", "streams",
]
