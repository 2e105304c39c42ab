"""The recorder suites run on every backend; helpers to make steady streams."""

from __future__ import annotations

from datetime import UTC, datetime

from eventstore import HealthChecked, Metrics, MetricsSampled
from tests import backends
from tests.backends import BACKENDS, backend_fixture

RECORDER_BACKENDS = [b for b in BACKENDS if b.anyio == "asyncio" or b.kind == "sqlite"]
HUB = "rec-hub"


backend = backend_fixture(RECORDER_BACKENDS)
anyio_backend = backends.async_library_of_the_backend


def check(n: int) -> HealthChecked:
    """A lifecycle event carrying its sequence number (in latency_ms)."""
    return HealthChecked(ok=True, checked_at=datetime.now(UTC), latency_ms=float(n))


def sample(n: int) -> MetricsSampled:
    return MetricsSampled(metrics=Metrics(request_count=n), sampled_at=datetime.now(UTC))
