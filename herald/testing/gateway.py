"""A real HTTP gateway on 127.0.0.1 for tests: it records every request and answers as it is told.

    def test_something(gateway):                 # the fixture (herald/testing/fixtures.py: every test has it)
        gateway.will(reply(503), reply(200, "OK"))   # next request 503, then 200 "OK" from then on
        gateway.will(hang())                     # answer nothing until past the (shortened) send timeout
        gateway.will(drop())                     # close the connection without answering
        gateway.will(garbage())                  # answer bytes that aren't HTTP
        gateway.requests[0].form["text"]         # what arrived: method, path, query, headers, body, form, json
        gateway.requests[0].at                   # and when (time.monotonic), e.g. to count requests per second
        unreachable_url()                        # a URL where nothing listens (connection refused)

The fixture also shortens the channel timeouts (`CHANNEL_SEND_TIMEOUT` 1 s) so hanging tests stay fast.
"""

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from herald.testing.processes import free_port

TEST_SEND_TIMEOUT = 1.0


@dataclass
class Recorded:
    method: str
    path: str  # with the query string, as sent
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when it arrived (time.monotonic), for rate tests

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query, keep_blank_values=True)

    @property
    def text(self) -> str:
        return self.body.decode()

    @property
    def form(self) -> dict[str, str]:
        """A urlencoded body, one value a key (the last); `form_lists` keeps repeats."""
        return {key: values[-1] for key, values in self.form_lists.items()}

    @property
    def form_lists(self) -> dict[str, list[str]]:
        return parse_qs(self.text, keep_blank_values=True)

    @property
    def json(self):
        return json.loads(self.body)


# What the gateway does with a request.
@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: str = "OK"
    headers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Hang:
    seconds: float = 10.0  # released early when the gateway stops


@dataclass(frozen=True)
class Drop:
    pass


@dataclass(frozen=True)
class Garbage:
    data: bytes = b"\x00\xff\xfethis is not HTTP\r\n\r\n"


def reply(status: int = 200, body: str = "OK", headers: dict | None = None) -> Reply:
    return Reply(status, body, headers or {})


def hang(seconds: float = 10.0) -> Hang:
    return Hang(seconds)


def drop() -> Drop:
    return Drop()


def garbage(data: bytes = Garbage.data) -> Garbage:
    return Garbage(data)


class _Server(ThreadingHTTPServer):
    """A threading HTTP server that, once closed, also closes the keep-alive connections it still holds: otherwise a
    client's pooled connection to a stopped gateway stays served by its old handler, and a later gateway brought up on
    the same port would not see that client's requests."""

    daemon_threads = True
    request_queue_size = 128  # bursts of a whole batch's sends connect at once

    def __init__(self, address, handler):
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def server_close(self):
        super().server_close()
        with self._open_lock:
            still_open, self._open = list(self._open), set()
        for connection in still_open:
            with contextlib.suppress(OSError):  # the client closed it first
                connection.shutdown(socket.SHUT_RDWR)


class FakeGateway:
    def __init__(self, port: int = 0):  # 0: any free port; a given one brings a "down" gateway back up
        self.requests: list[Recorded] = []
        self._plan: list = [Reply()]
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.server = _Server(("127.0.0.1", port), self._handler_class())
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-gateway", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def will(self, *behaviours) -> None:
        """Answer the next requests with `behaviours` in order; the last one then answers every later request."""
        with self._lock:
            self._plan = list(behaviours) or [Reply()]

    def _next_behaviour(self):
        with self._lock:
            return self._plan.pop(0) if len(self._plan) > 1 else self._plan[0]

    def respond(self, recorded: Recorded):
        """What to do with a request that arrived (already in `requests`): the plan's next behaviour. The fake
        providers (herald/testing/providers/) answer as their provider would instead."""
        return self._next_behaviour()

    def start(self) -> "FakeGateway":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # frees hanging handlers
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _handler_class(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real gateways do, so connection reuse is exercised

            def do_GET(self):
                self._handle()

            do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                recorded = Recorded(self.command, self.path, headers, body)
                with gateway._lock:
                    gateway.requests.append(recorded)
                self._act(gateway.respond(recorded))

            def _act(self, behaviour):
                if isinstance(behaviour, Hang):
                    gateway._stopping.wait(behaviour.seconds)
                    behaviour = Reply()
                if isinstance(behaviour, Drop):
                    self.close_connection = True
                    return
                if isinstance(behaviour, Garbage):
                    self.close_connection = True
                    self._write(behaviour.data)
                    return
                data = behaviour.body.encode()
                self.send_response(behaviour.status)
                headers = {"Content-Type": "text/plain; charset=utf-8", **behaviour.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self._write(data)

            def _write(self, data: bytes):
                try:
                    self.wfile.write(data)
                    self.wfile.flush()
                except OSError:  # the client gave up (timed out) first
                    self.close_connection = True

            def log_message(self, format, *args):
                pass  # quiet: tests read `gateway.requests` instead

        return Handler


def unreachable_url() -> str:
    """An http URL on 127.0.0.1 whose port was free a moment ago: connecting is refused."""
    return f"http://127.0.0.1:{free_port()}"


GATEWAY_BODY = '{"id": {{id}}, "to": {{to}}, "text": {{text}}}'


def gateway_channel(workspace, url: str, tps: int | None = None, name: str = "Gateway", body: str = GATEWAY_BODY):
    """An `external` tel channel that POSTs `body` (`{"id", "to", "text"}`) as JSON to `<url>/send`: the shape the
    pipeline tests read back from `Recorded.json`."""
    from herald.channels.registry import create_channel  # noqa: PLC0415 — imported by the fixtures plugin, before Django is set up

    return create_channel(
        workspace,
        "external",
        name,
        address="+250788000000",
        schemes=["tel"],
        tps=tps,
        config={
            "send_url": f"{url}/send",
            "content_type": "json",
            "send_body": body,
        },
    )
