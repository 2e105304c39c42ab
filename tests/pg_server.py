"""A PostgreSQL server of a test's own: initdb in a temporary directory, a
free loopback port, and stop/kill/start on demand — never the shared one.

The server runs as the ``postgres`` system user (PostgreSQL refuses to run
as root), from the binaries of the installed version.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg

from tests.adapters.redis.servers import free_port

START_TIMEOUT = 30.0


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"no PostgreSQL {name} under /usr/lib/postgresql/*/bin")
    return found[-1]


def _as_postgres() -> dict[str, str]:
    """Popen arguments that run the command as the postgres user when we are root."""
    return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}


def _pid_file_alive(data: Path) -> bool:
    """Whether a process still holds the cluster's shared memory (PostgreSQL
    refuses to start beside its old backends)."""
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


class LocalPostgres:
    """One PostgreSQL cluster on 127.0.0.1:<free port>, trust auth, user postgres."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="hublog-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        subprocess.run(
            [pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
            cwd=self.directory,
            **_as_postgres(),  # type: ignore[call-overload]
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> Self:
        options = [
            "-D", str(self.data), "-p", str(self.port), "-k", str(self.directory),
            "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=60",
        ]  # fmt: skip
        with (self.directory / "postgres.log").open("ab") as log:  # the child keeps its copy
            self.process = subprocess.Popen(
                [pg_bin("postgres"), *options],
                stdout=log,
                stderr=log,
                cwd=self.directory,
                **_as_postgres(),  # type: ignore[call-overload]
            )
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited:\n{self.log()}")
            try:
                with psycopg.connect(self.url, connect_timeout=1) as conn:
                    conn.execute("select 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"postgres did not answer:\n{self.log()}") from None
                time.sleep(0.05)

    def log(self) -> str:
        path = self.directory / "postgres.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"

    def kill(self) -> None:
        """SIGKILL the postmaster: a crash (its backends exit as it dies)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self._wait_for_backends()

    def _wait_for_backends(self) -> None:
        # The backends notice the postmaster's death and exit; the data
        # directory's pid file is then stale and a new postmaster may start.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if not (self.data / "postmaster.pid").exists() or not _pid_file_alive(self.data):
                return
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self, *, crash: bool = True) -> None:
        self.kill() if crash else self.stop()
        self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)
