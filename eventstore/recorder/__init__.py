"""The embedded recorder: a hub's hot path appends through a bounded buffer,
batched appends, retries, and a local spill file while the backend is down.

Needs only the store contract (:mod:`eventstore.store`).  What
"acknowledged" means, the defaults and the spill format: ``docs/recorder.md``.
"""

from .drain import DrainResult, drain
from .errors import RecorderError, SpillFileError
from .receipt import ACKNOWLEDGED, Fate, Receipt
from .recorder import (
    BATCH_SIZE,
    MAX_BUFFER,
    MAX_DELAY,
    SPILL_AFTER,
    CloseReport,
    Recorder,
)
from .spill import MAGIC, Damage, Scan, SpillFile, scan
from .stats import Counts, Stats

__all__ = [
    "ACKNOWLEDGED",
    "BATCH_SIZE",
    "MAGIC",
    "MAX_BUFFER",
    "MAX_DELAY",
    "SPILL_AFTER",
    "CloseReport",
    "Counts",
    "Damage",
    "DrainResult",
    "Fate",
    "Receipt",
    "Recorder",
    "RecorderError",
    "Scan",
    "SpillFile",
    "SpillFileError",
    "Stats",
    "drain",
    "scan",
]
