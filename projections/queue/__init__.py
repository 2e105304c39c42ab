"""The reservation queue's read side: a pure fold of a hub's ``queue/reserve``
stream to depth, the oldest wait and wait times (:mod:`.stats`), and that
fold kept as a checkpointed read model (:mod:`.readmodel`).  The queue's
write side — reserving, waiting, granting — is :mod:`projections.deciders.queue`.
"""

from __future__ import annotations

from .readmodel import QueueModel, QueueProjection, WaitRow
from .stats import QueueStats, Wait, apply, fold

__all__ = ["QueueModel", "QueueProjection", "QueueStats", "Wait", "WaitRow", "apply", "fold"]
