"""The logs every side writes and reads: the same facts, each side in its own
encoding.

A hub's log here is a pool of instances, each registered once, then checked
and sampled in turn (a sample is a ~200-byte ``MetricsSampled``), with a
failed health check now and then so the health fold has transitions to
record.  Each side turns a :class:`LogEntry` into its own event objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

INSTANCES = 10
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SPACING = timedelta(seconds=0.5)


@dataclass(frozen=True)
class LogEntry:
    instance: str
    kind: str  # "registered", "checked" or "sampled"
    at: datetime
    ok: bool = True
    metrics: dict[str, Any] = field(default_factory=dict)


def metrics(n: int) -> dict[str, Any]:
    return {"cpu_percent": float(n % 90), "memory_percent": 0.0, "request_count": 10 * n,
            "error_count": n // 20}  # fmt: skip


def pool_log(total: int) -> list[LogEntry]:
    """``total`` entries: registrations first, then checks and samples alternating."""
    log = [LogEntry(f"ollama-{i}", "registered", T0) for i in range(INSTANCES)]
    for n in range(total - len(log)):
        instance, at = f"ollama-{n % INSTANCES}", T0 + n * SPACING
        if n % 2:
            log.append(LogEntry(instance, "checked", at, ok=n % 97 != 1))
        else:
            log.append(LogEntry(instance, "sampled", at, metrics=metrics(n)))
    return log


def samples_log(total: int) -> list[LogEntry]:
    """One instance registered, then sampled: ``total`` entries, the log the
    decoded-read rows read."""
    samples = [LogEntry("ollama-0", "sampled", T0 + n * SPACING, metrics=metrics(n))
               for n in range(total - 1)]  # fmt: skip
    return [LogEntry("ollama-0", "registered", T0), *samples]
