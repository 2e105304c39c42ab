"""The recorder suites run on every backend; helpers to make steady streams."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eventstore import HealthChecked, Metrics, MetricsSampled
from tests.backends import BACKENDS, Backend

RECORDER_BACKENDS = [b for b in BACKENDS if b.anyio == "asyncio" or b.kind == "sqlite"]
HUB = "rec-hub"


@pytest.fixture(params=RECORDER_BACKENDS, ids=lambda b: b.id)
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param


@pytest.fixture
def anyio_backend(backend: Backend) -> str:
    return backend.anyio


def check(n: int) -> HealthChecked:
    """A lifecycle event carrying its sequence number (in latency_ms)."""
    return HealthChecked(ok=True, checked_at=datetime.now(UTC), latency_ms=float(n))


def sample(n: int) -> MetricsSampled:
    return MetricsSampled(metrics=Metrics(request_count=n), sampled_at=datetime.now(UTC))
