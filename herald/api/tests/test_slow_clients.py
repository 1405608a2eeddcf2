"""Slow and oversized clients against the real server (`herald serve`): hundreds of connections dripping their
headers or body a few bytes a second (slowloris) neither block an ordinary request nor stay open for ever, and
requests beyond the server's limits are refused before anything reads them. Loopback only, bounded in time."""

import errno
import json
import selectors
import socket
import time
import urllib.request
from typing import cast

from herald.api.tests.serve_process import Server, get_when_up
from herald.runtime import web as web_server
from herald.testing.processes import free_port

SLOW_CLIENTS = 300
# Generous bounds that end a stuck test; they don't judge speed.
ANSWER_LIMIT_SECONDS = 10
CLOSE_LIMIT_SECONDS = web_server.REQUEST_HEADER_SECONDS + 40


# Half the slow clients never finish their headers, the other half their body.
SLOW_HEADERS = (b"GET /api/v2/workspace.json HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-Slow: 1\r\n")
SLOW_BODY = (
    b"POST /api/v2/broadcasts.json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100000\r\n\r\n",
    b"[1,",
)


class Drippers:
    """Connections that send the start of a request, then a few more bytes of it each time `drip` is called."""

    def __init__(self, port: int, count: int):
        self.open: dict[socket.socket, bytes] = {}  # each connection, and what it drips
        for n in range(count):
            start, drop = SLOW_HEADERS if n % 2 else SLOW_BODY
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(start)
            sock.setblocking(False)
            self.open[sock] = drop
        self.closed_by_server = 0

    def drip(self) -> None:
        for sock, drop in list(self.open.items()):
            try:
                sock.send(drop)
            except OSError as e:
                if e.errno not in (errno.EPIPE, errno.ECONNRESET):
                    raise
                self._closed(sock)
        self._collect_closed()

    def _collect_closed(self) -> None:
        """Connections the server closed (readable, then end of stream or a reset)."""
        with selectors.DefaultSelector() as selector:
            for sock in self.open:
                selector.register(sock, selectors.EVENT_READ)
            for key, _ in selector.select(timeout=0):
                sock = cast(socket.socket, key.fileobj)  # registered above
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    data = b""
                assert not data, f"an incomplete request was answered: {data[:80]!r}"
                self._closed(sock)

    def _closed(self, sock: socket.socket) -> None:
        del self.open[sock]
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

        # Dripping a few bytes a second never goes silent, yet the server closes each connection once its
        # request is overdue.
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


def raw_answer(port: int, request: bytes) -> tuple[str, dict]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), json.loads(body)


def test_requests_beyond_the_server_limits_are_refused_in_json(tmp_path):
    port = free_port()
    server = Server(tmp_path / "data", port)
    try:
        info = server.first_json_line()
        get_when_up(f"http://127.0.0.1:{port}/api/v2/workspace.json", info["token"]).close()
        start = b"POST /api/v2/broadcasts.json HTTP/1.1\r\nHost: 127.0.0.1\r\n"

        many_fields = b"".join(b"X-Field-%d: 1\r\n" % n for n in range(web_server.MAX_HEADER_FIELDS + 1))
        status, body = raw_answer(port, start + many_fields + b"\r\n")
        assert status == "HTTP/1.0 400 Bad Request"
        assert body == {"detail": f"Bad Request: more than {web_server.MAX_HEADER_FIELDS} header fields."}

        # Exactly the limit, so that the server has read every byte sent when it answers and closes.
        huge_header = start + b"X-Big: " + b"a" * (web_server.MAX_HEADER_BYTES - len(start) - len(b"X-Big: "))
        status, body = raw_answer(port, huge_header)
        assert status.endswith("431 Request Header Fields Too Large")
        assert body["detail"].startswith("Request Header Fields Too Large")

        # Refused on its Content-Length alone: the body is never sent, let alone read.
        status, body = raw_answer(port, start + b"Content-Length: 100000000000\r\n\r\n")
        assert status.endswith("413 Request Entity Too Large")
        assert body["detail"].startswith("Request Entity Too Large")

        assert timed_get(f"http://127.0.0.1:{port}/api/v2/workspace.json", info["token"])[0] == 200
    finally:
        assert server.stop() == 0
