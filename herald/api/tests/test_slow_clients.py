"""Slow clients against the real server (`herald serve`): hundreds of connections dripping their headers a line a
second (slowloris) neither block an ordinary request nor stay open for ever. Loopback only, bounded in time."""

import errno
import selectors
import socket
import time
import urllib.request

from herald.api import server as web_server
from herald.api.tests.serve_process import Server, free_port, get_when_up

SLOW_CLIENTS = 300
# Generous bounds that end a stuck test; they don't judge speed.
ANSWER_LIMIT_SECONDS = 10
CLOSE_LIMIT_SECONDS = web_server.REQUEST_HEADER_SECONDS + 40


class Drippers:
    """Connections that send a request line, then one more header line each time `drip` is called."""

    def __init__(self, port: int, count: int):
        self.open: list[socket.socket] = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(b"GET /api/v2/workspace.json HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            sock.setblocking(False)
            self.open.append(sock)
        self.closed_by_server = 0

    def drip(self) -> None:
        for sock in list(self.open):
            try:
                sock.send(b"X-Slow: 1\r\n")
            except OSError as e:
                assert e.errno in (errno.EPIPE, errno.ECONNRESET), e
                self._closed(sock)
        self._collect_closed()

    def _collect_closed(self) -> None:
        """Connections the server closed (readable, then end of stream or a reset)."""
        with selectors.DefaultSelector() as selector:
            for sock in self.open:
                selector.register(sock, selectors.EVENT_READ)
            for key, _ in selector.select(timeout=0):
                try:
                    data = key.fileobj.recv(65536)
                except ConnectionResetError:
                    data = b""
                assert not data.startswith(b"HTTP/1.1 200"), "a request without its end of headers was answered"
                if not data:
                    self._closed(key.fileobj)

    def _closed(self, sock: socket.socket) -> None:
        self.open.remove(sock)
        sock.close()
        self.closed_by_server += 1

    def close(self) -> None:
        for sock in self.open:
            sock.close()


def timed_get(url: str, token: str) -> tuple[int, float]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=ANSWER_LIMIT_SECONDS * 3) as response:
        response.read()
        return response.status, time.monotonic() - started


def test_hundreds_of_dripping_connections_neither_block_requests_nor_stay_open(tmp_path):
    port = free_port()
    server = Server(tmp_path / "data", port)
    drippers = None
    try:
        info = server.first_json_line()
        url = f"http://127.0.0.1:{port}/api/v2/workspace.json"
        get_when_up(url, info["token"]).close()

        drippers = Drippers(port, SLOW_CLIENTS)
        silent = socket.create_connection(("127.0.0.1", port), timeout=CLOSE_LIMIT_SECONDS)  # opens, says nothing
        for _ in range(3):
            drippers.drip()
            time.sleep(1)
        assert drippers.closed_by_server == 0  # still being read: the server is not just refusing them

        # Far more slow clients than the server has threads, and an ordinary request is answered all the same.
        assert len(drippers.open) > web_server.THREADS
        status, seconds = timed_get(url, info["token"])
        assert status == 200
        assert seconds < ANSWER_LIMIT_SECONDS, f"answered after {seconds:.1f} s behind {SLOW_CLIENTS} slow clients"

        # Dripping a line a second never goes silent, yet the server closes each connection once its headers
        # are overdue.
        deadline = time.monotonic() + CLOSE_LIMIT_SECONDS
        while drippers.open and time.monotonic() < deadline:
            drippers.drip()
            time.sleep(1)
        assert not drippers.open, f"{len(drippers.open)} dripping connections still open after {CLOSE_LIMIT_SECONDS} s"
        assert drippers.closed_by_server == SLOW_CLIENTS
        assert silent.recv(1) == b""  # the silent connection was closed too (idle)
        silent.close()

        assert timed_get(url, info["token"])[0] == 200
    finally:
        if drippers is not None:
            drippers.close()
        assert server.stop() == 0
