"""The hub projection: instances, lock table and hub summary of one hub.

These three are what ``state_at`` returns, so they are one fold with one
checkpoint, and its (trimmed) state is what a snapshot holds.  The types live
in :mod:`.state` (a leaf); the folds beside it import it, never the reverse.
"""

from .projection import HubProjection
from .state import (
    Holder,
    HubInfo,
    HubMeta,
    HubState,
    HubSummary,
    InstanceState,
    LeaseState,
    ScalingAdvice,
    summarize,
)

__all__ = [
    "Holder",
    "HubInfo",
    "HubMeta",
    "HubProjection",
    "HubState",
    "HubSummary",
    "InstanceState",
    "LeaseState",
    "ScalingAdvice",
    "summarize",
]
