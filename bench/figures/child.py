"""Figures that need a fresh process: a rebuild's peak RSS (and its speed),
and what an import costs.

    python -m bench.figures.child '<json job>'

prints one JSON line: ``{"events": n, "seconds": s, "maxrss_mib": m}``.  A
job names the side (hublog, raw, peer), the backend and where its data is.
Run by :func:`run_rebuild`, from the repository root.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .rss import peak_rss_mib

ROOT = Path(__file__).resolve().parents[2]


def run_rebuild(job: dict[str, Any]) -> dict[str, float]:
    """Run ``job`` in a fresh interpreter; its result."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.figures.child", json.dumps(job)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"rebuild child {job['side']}/{job['backend']} failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return result


def import_cost(statement: str) -> tuple[float, bool]:
    """Peak RSS (MiB) of a fresh interpreter after ``statement``, and whether
    SQLAlchemy got imported."""
    # The tiny rss module is imported after the statement: its cost is not counted.
    code = (f"import sys\n{statement}\nfrom bench.figures.rss import peak_rss_mib\n"
            "print(peak_rss_mib(), 'sqlalchemy' in sys.modules)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=False)  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"{statement!r} failed in a fresh interpreter:\n{done.stderr}")
    rss, sqlalchemy = done.stdout.split()
    return float(rss), sqlalchemy == "True"


def _hublog(job: dict[str, Any]) -> float:
    import anyio

    from adapters import open_store, readmodel_store_for

    from .ours import rebuild_all

    async def go() -> float:
        async with open_store(job["url"]) as store, readmodel_store_for(store) as storage:
            await store.head(job["hub"])  # connected and checked before the clock starts
            started = time.perf_counter()
            await rebuild_all(store, storage, job["hub"])
            return time.perf_counter() - started

    return anyio.run(go)


def _raw(job: dict[str, Any]) -> float:
    if job["backend"] == "sqlite":
        from . import raw_sqlite as raw
    else:
        from . import raw_postgres as raw  # type: ignore[no-redef]
    conn = raw.connect(job["url"])
    started = time.perf_counter()
    raw.read_all(conn, job["hub"])  # type: ignore[arg-type]
    return time.perf_counter() - started


def _peer(job: dict[str, Any]) -> float:
    from uuid import UUID

    from . import peer

    app = (
        peer.sqlite_app(job["url"]) if job["backend"] == "sqlite" else peer.postgres_app(job["url"])
    )
    ids = [UUID(i) for i in job["ids"]]
    started = time.perf_counter()
    peer.reconstruct(app, ids)
    return time.perf_counter() - started


def main() -> None:
    job = json.loads(sys.argv[1])
    seconds = {"hublog": _hublog, "raw": _raw, "peer": _peer}[job["side"]](job)
    print(json.dumps({"events": job["events"], "seconds": seconds, "maxrss_mib": peak_rss_mib()}))


if __name__ == "__main__":
    main()
