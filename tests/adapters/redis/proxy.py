"""A TCP proxy in front of a real Redis that a test can make misbehave.

It listens on a free loopback port and relays each client connection to the
server, counting what clients send.  A test can have it swallow the reply to
the next command containing some bytes (``EVALSHA``) and cut that client's
connection: the server ran the command, the client never hears of it.  Or
cut every client connection at once.  ``close()`` stops every thread it
started.
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress
from typing import Self


class Proxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._swallow: bytes | None = None
        self._seen: dict[bytes, threading.Event] = {}
        self.bytes_sent = 0  # client -> server, all connections
        self.swallowed = threading.Event()
        self._closed = False
        self._spawn(self._accept)

    def url(self, path_and_query: str = "/0") -> str:
        return f"redis://127.0.0.1:{self.port}{path_and_query}"

    def swallow_reply_to(self, marker: bytes) -> None:
        """Drop the reply to the next command containing ``marker`` and cut
        that connection (after the server has answered, so it ran it)."""
        with self._lock:
            self._swallow = marker

    def seen(self, marker: bytes) -> threading.Event:
        """Set once a client sends bytes containing ``marker`` (from now on)."""
        with self._lock:
            return self._seen.setdefault(marker, threading.Event())

    def cut_all(self) -> None:
        """Cut every client connection (and its upstream) now."""
        with self._lock:
            sockets, self._sockets = list(self._sockets), set()
        for sock in sockets:
            _close(sock)

    def close(self) -> None:
        self._closed = True
        _close(self._listener)
        self.cut_all()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the relaying threads -------------------------------------------------

    def _spawn(self, target, *args) -> None:  # type: ignore[no-untyped-def]
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets |= {client, server}
            pending = threading.Event()  # this connection's next reply is to be swallowed
            self._spawn(self._to_server, client, server, pending)
            self._spawn(self._to_client, server, client, pending)

    def _to_server(
        self, client: socket.socket, server: socket.socket, pending: threading.Event
    ) -> None:
        while data := _recv(client):
            with self._lock:
                self.bytes_sent += len(data)
                if self._swallow is not None and self._swallow in data:
                    self._swallow = None
                    pending.set()
                for marker, event in self._seen.items():
                    if marker in data:
                        event.set()
            if not _send(server, data):
                break
        _close(server)

    def _to_client(
        self, server: socket.socket, client: socket.socket, pending: threading.Event
    ) -> None:
        while data := _recv(server):
            if pending.is_set():
                self.swallowed.set()
                break
            if not _send(client, data):
                break
        _close(client)
        _close(server)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with suppress(OSError):
        sock.close()
