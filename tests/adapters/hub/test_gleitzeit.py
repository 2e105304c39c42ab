"""A real Gleitzeit 0.0.5 OllamaHub on hublog survives SIGKILL: attach while
it runs, restore in the next process (needs the ``gleitzeit`` extra)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.backends import SHARED_BACKENDS, Backend

pytest.importorskip(
    "gleitzeit.hub", reason="install the gleitzeit extra: pip install -e '.[gleitzeit]'"
)

ROOT = Path(__file__).resolve().parents[3]
LIMIT = 120


class FakeOllama(BaseHTTPRequestHandler):
    """Only ``GET /api/tags``: discovery, health checks and metrics all use it."""

    def do_GET(self) -> None:
        body = json.dumps({"models": [{"name": "llama3:8b"}, {"name": "qwen2:7b"}]}).encode()
        self.send_response(200 if self.path == "/api/tags" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def servers() -> Iterator[list[ThreadingHTTPServer]]:
    started = [ThreadingHTTPServer(("127.0.0.1", 0), FakeOllama) for _ in range(3)]
    for server in started:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield started
    for server in started:
        server.shutdown()
        server.server_close()


def node(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.adapters.hub.gleitzeit_node", *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def expect(child: subprocess.Popen[str], word: str) -> str:
    assert child.stdout is not None
    line = child.stdout.readline()  # the child gives up after 60 s and exits
    assert line.startswith(word), f"expected {word}, got {line!r} (exit {child.poll()})"
    return line[len(word) :].strip()


@pytest.mark.parametrize("backend", SHARED_BACKENDS, ids=[b.id for b in SHARED_BACKENDS])
def test_a_killed_hub_is_restored_as_it_last_knew(
    backend: Backend, store_url: str, servers: list[ThreadingHTTPServer]
) -> None:
    ports = [str(s.server_address[1]) for s in servers]
    kept, failing, _gone = (f"ollama-127.0.0.1-{p}" for p in ports)

    with node("first", store_url, *ports) as first:
        try:
            expect(first, "REGISTERED")
            servers[1].shutdown()
            servers[1].server_close()  # from now on its health checks fail
            assert first.stdin is not None
            first.stdin.write("GO\n")
            first.stdin.flush()
            ready = json.loads(expect(first, "READY"))
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=LIMIT)

    with node("second", store_url) as second:
        restored = json.loads(expect(second, "RESTORED"))
        assert second.wait(timeout=LIMIT) == 0

    assert ready["failures"] == 0
    assert ready["known"][failing]["status"] == "unhealthy"
    instances = restored["instances"]
    assert set(instances) == {kept, failing}  # the deregistered one stays gone
    assert instances[kept]["status"] == "healthy" and restored["report"] == [kept]
    assert instances[failing]["status"] != "healthy"
    for instance_id, port in ((kept, ports[0]), (failing, ports[1])):
        assert instances[instance_id]["endpoint"] == f"http://127.0.0.1:{port}"
        assert instances[instance_id]["config"] == {"port": int(port), "max_concurrent": 4}
        assert instances[instance_id]["capabilities"] == ["llama3:8b", "qwen2:7b"]
        assert instances[instance_id]["tags"] == ["ollama", f"port:{port}"]
    stamps = instances[kept]["timestamps"]
    assert len(stamps) >= 5 and stamps == sorted(stamps)
