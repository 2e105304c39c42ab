"""The benchmark suite runs and prints every row (``bench/suite.py --smoke``).

Nothing here looks at a number: speed is measured in ``bench/``, never
asserted in tests.  The peer columns are checked when ``eventsourcing`` (the
``bench`` extra, installed by CI) is importable.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests import services

ROOT = Path(__file__).resolve().parents[1]
ROW_STARTS = [
    "SQLite batched append", "PostgreSQL batched append", "Redis batched append",
    "SQLite single-event durable", "PostgreSQL single-event append", "Redis single-event append",
    "SQLite decoded read", "PostgreSQL decoded read", "Redis decoded read",
    "rebuild of hub + health + metrics read models, SQLite",
    "peak RSS during that rebuild, SQLite",
    "rebuild of hub + health + metrics read models, PostgreSQL",
    "peak RSS during that rebuild, PostgreSQL",
    "rebuild, SQLite log, read models in memory", "rebuild, PostgreSQL log, read models in memory",
    "4 writer processes on one hub, single events, SQLite",
    "4 writer processes on one hub, single events, PostgreSQL",
    "4 writer processes on one hub, single events, Redis",
    "RSS after `import eventstore`", "RSS after `import adapters, projections`",
    "RSS after creating memory:// and redis:// stores",
    "`Recorder.record()` cost on the caller, SQLite",
    "awaited `HubPersistenceAdapter.record()`, one sample, SQLite",
    "lease acquire, uncontended, SQLite",
    "`hublog state --at`", "`hublog events --since`",
    "follow latency, append to delivery in another process, SQLite",
    "follow latency, append to delivery in another process, PostgreSQL",
    "follow latency, append to delivery in another process, Redis",
    "idle CPU of a following subscriber, SQLite", "idle CPU of a following subscriber, PostgreSQL",
    "idle CPU of a following subscriber, Redis",
]  # fmt: skip
PEER_ROWS = (
    "SQLite batched append",
    "PostgreSQL decoded read",
    "peak RSS during that rebuild, SQLite",
)

pytestmark = pytest.mark.external_service


@pytest.fixture(scope="module")
def table() -> dict[str, list[str]]:
    services.need("postgresql", services.postgres_problem())
    services.need("redis", services.redis_problem())
    done = subprocess.run([sys.executable, "bench/suite.py", "--smoke"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [
        line.strip("|").split("|") for line in done.stdout.splitlines() if line.startswith("| ")
    ]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows[1:]}


def row(table: dict[str, list[str]], start: str) -> list[str]:
    found = [cells for label, cells in table.items() if label.startswith(start)]
    assert found, f"no row {start!r} in {list(table)}"
    return found[0]


def test_every_row_is_printed_with_a_hublog_figure(table: dict[str, list[str]]) -> None:
    for start in ROW_STARTS:
        unit, hublog, *_ = row(table, start)
        assert unit and hublog, start


def test_raw_references_sit_beside_hublog(table: dict[str, list[str]]) -> None:
    for start in ROW_STARTS[:18]:
        _, _, raw, _, to_raw, _ = row(table, start)
        assert raw not in ("", "—") and to_raw, start


@pytest.mark.skipif(importlib.util.find_spec("eventsourcing") is None,
                    reason="the peer columns need the bench extra: pip install -e '.[bench]'")  # fmt: skip
def test_the_peer_sits_beside_hublog(table: dict[str, list[str]]) -> None:
    for start in PEER_ROWS:
        _, _, _, peer, _, to_peer = row(table, start)
        assert peer not in ("", "—") and to_peer, start


HUB_API_TABLES = (
    "### Per call, by events already in the instance's stream",
    "### Per call, by hubs in the store",
    "### Store calls per hub call",
)


def test_the_hub_api_benchmark_prints_every_table() -> None:
    """``bench/hub_api.py --smoke``: the hub API's growth, hub-count, beside
    Gleitzeit (with the ``gleitzeit`` extra, which CI installs) and
    round-trip tables, every cell measured."""
    services.need("postgresql", services.postgres_problem())
    services.need("redis", services.redis_problem())
    done = subprocess.run([sys.executable, "bench/hub_api.py", "--smoke"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    for title in HUB_API_TABLES:
        assert title in done.stdout
    if importlib.util.find_spec("gleitzeit") is not None:
        assert "### Beside Gleitzeit" in done.stdout
    assert "failed (" not in done.stdout
    for backend in ("SQLite", "PostgreSQL", "Redis"):
        assert f"| {backend} | save_instance |" in done.stdout
