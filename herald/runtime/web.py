"""The production web server that `herald serve` and `herald web` run: gunicorn's master, waitress in each worker.

gunicorn's master (the arbiter) runs the worker processes (`herald web --processes N`), starts a dead one again,
and stops them on SIGTERM / Ctrl-C; a worker notices when its master is gone. Each worker serves HTTP with waitress:
one event loop reads every request whole, headers then body (spooled to disk when big), before it hands the request
to one of THREADS threads. A slow client therefore holds a socket, never a thread, and the event loop closes it when
its request is not in after the deadlines below (slowloris).
"""

import datetime
import ipaddress
import json
import logging
import os
import socket
import sys
import time
from types import SimpleNamespace

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker
from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask

from herald.channels.logfilters import RedactCallbackSecrets

# Threads per web process. `herald serve` runs a process per core (CPU-bound Python needs processes to use more
# than one core); what they share goes through the database, the queue and the shared cache (rate limits).
THREADS = 8
# A request's headers must be in this many seconds after its first byte (nginx and Apache allow 20-60 s) ...
REQUEST_HEADER_SECONDS = 20
# ... and its body must keep coming at this average rate at least (bytes/s, headers included) after that.
REQUEST_MIN_BYTES_PER_SECOND = 16 * 1024
# Open connections per process: each costs a socket and a small buffer, not a thread.
CONNECTION_LIMIT = 1000
# A connection that sends nothing this long (kept alive after a response, or opened and left silent) is closed.
IDLE_SECONDS = 5
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADER_FIELDS = 100  # gunicorn's and Apache's default
# How often the event loop wakes up to check the master, a stop request and the deadlines (seconds).
LOOP_SECONDS = 0.2


class HeraldArbiter(Arbiter):
    """gunicorn's master, telling `on_stop` the moment it starts shutting down (before it waits for its workers),
    so that what runs beside it (the sending worker of `herald serve`) stops at the same time, not after."""

    on_stop = None

    def stop(self, graceful=True):
        if self.on_stop is not None:
            self.on_stop()
        super().stop(graceful)


class HeraldServer(BaseApplication):
    """gunicorn without a config file or a second command."""

    def __init__(self, options: dict, on_stop=None):
        self.options = options
        self.on_stop = on_stop
        super().__init__()

    def run(self):
        arbiter = HeraldArbiter(self)
        arbiter.on_stop = self.on_stop
        arbiter.run()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        # Each web worker loads Django itself, after the fork.
        from herald.wsgi import application, settle_for_serving  # noqa: PLC0415

        settle_for_serving()
        return application


# waitress, with Herald's deadlines and limits and gunicorn's access log ------------------------------------------


class BoundedHeaderParser(HTTPRequestParser):
    """waitress bounds the header block's size; this also bounds how many fields it holds."""

    def parse_header(self, header_plus):
        if header_plus.count(b"\n") > MAX_HEADER_FIELDS:
            raise ParsingError(f"more than {MAX_HEADER_FIELDS} header fields")
        super().parse_header(header_plus)


class AccessLoggedTask(WSGITask):
    def finish(self):
        super().finish()
        self.channel.server.log_access(self)


class JSONErrorTask(ErrorTask):
    """The server's own refusals (headers or a body over the limits, a malformed request) in JSON, like the API's."""

    def execute(self):
        error = self.request.error
        body = json.dumps({"detail": f"{error.reason}: {error.body}."}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class DeadlineChannel(HTTPChannel):
    """A connection whose request must arrive in time: waitress alone only closes a connection that goes silent,
    and a client dripping a byte a second never does."""

    task_class = AccessLoggedTask
    error_task_class = JSONErrorTask
    parser_class = BoundedHeaderParser
    reading_since = None  # when the first byte of the request still being read arrived
    bytes_read = 0  # of that request

    def received(self, data):
        if self.reading_since is None:
            self.reading_since, self.bytes_read = time.monotonic(), 0
        handed_over = len(self.requests)
        result = super().received(data)
        if self.request is None:  # the request (or every request in `data`) was read whole
            self.reading_since = None
        elif len(self.requests) > handed_over:  # one was read whole and the next one began in the same bytes
            self.reading_since, self.bytes_read = time.monotonic(), 0
        else:
            self.bytes_read += len(data)
        return result

    def read_is_overdue(self, now: float) -> bool:
        if self.reading_since is None or self.requests:
            return False
        allowed = REQUEST_HEADER_SECONDS + self.bytes_read / REQUEST_MIN_BYTES_PER_SECOND
        return now - self.reading_since > allowed


class HeraldWSGIServer(TcpWSGIServer):
    """waitress on a socket gunicorn's master opened."""

    channel_class = DeadlineChannel

    def __init__(self, application, listener: socket.socket, socket_map: dict, dispatcher, adj, log):
        info = (listener.family, listener.type, listener.proto, listener.getsockname())
        super().__init__(
            application, socket_map, _sock=listener, dispatcher=dispatcher, adj=adj, sockinfo=info, bind_socket=False
        )
        self.access_log = log  # not `log`: asyncore dispatchers have a log() method of their own

    def maintenance(self, now):
        super().maintenance(now)  # closes the connections idle for longer than IDLE_SECONDS
        monotonic_now = time.monotonic()
        for channel in self.active_channels.values():
            if channel.read_is_overdue(monotonic_now):
                channel.will_close = True

    def log_access(self, task: WSGITask) -> None:
        environ = task.get_environment()
        environ.setdefault("RAW_URI", environ.get("REQUEST_URI", ""))
        response = SimpleNamespace(status=task.status, sent=task.content_bytes_written, headers=task.response_headers)
        took = datetime.timedelta(seconds=time.time() - task.start_time)
        self.access_log.access(response, [], environ, took)


def waitress_adjustments() -> Adjustments:
    largest_body = max(settings.MEDIA_MAX_UPLOAD_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return Adjustments(
        threads=THREADS,
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=IDLE_SECONDS,
        cleanup_interval=1,
        max_request_header_size=MAX_HEADER_BYTES,
        # Django answers a body over its own limits (JSON 413); this only stops one far beyond them (a multipart
        # upload's framing is a few hundred bytes over its file).
        max_request_body_size=largest_body + 64 * 1024,
        asyncore_use_poll=True,  # select() stops at 1024 file descriptors
        log_socket_errors=False,  # a client that hangs up or resets is routine, not a traceback in the log
        # Pass X-Forwarded-Proto on to Django, which trusts it only with HERALD_REQUIRE_HTTPS (as gunicorn did).
        clear_untrusted_proxy_headers=False,
        ident="herald",
    )


class WaitressWorker(Worker):
    """A gunicorn worker process serving with waitress instead of gunicorn's own HTTP code."""

    def run(self):
        socket_map: dict = {}
        dispatcher = ThreadedTaskDispatcher()
        dispatcher.set_thread_count(THREADS)
        adj = waitress_adjustments()
        servers = [
            HeraldWSGIServer(self.wsgi, listener.sock, socket_map, dispatcher, adj, self.log)
            for listener in self.sockets
        ]
        while self.alive and self.ppid == os.getppid():
            self.notify()
            wasyncore.loop(timeout=LOOP_SECONDS, map=socket_map, use_poll=True, count=1)
        self.finish(servers, socket_map, dispatcher)

    def finish(self, servers: list, socket_map: dict, dispatcher: ThreadedTaskDispatcher) -> None:
        """Stop taking connections, answer the requests under way (for the graceful timeout at most), close."""
        for server in servers:
            # Not server.close(): that also closes the trigger through which the threads still answering wake
            # the loop.
            server.accepting = False
            server.del_channel()
            server.socket.close()
        deadline = time.monotonic() + self.cfg.graceful_timeout
        while time.monotonic() < deadline:
            if not any(self.answering(channel) for channel in socket_map.values()):
                break
            self.notify()
            wasyncore.loop(timeout=LOOP_SECONDS, map=socket_map, use_poll=True, count=1)
        dispatcher.shutdown(timeout=1)
        wasyncore.close_all(socket_map)

    @staticmethod
    def answering(channel) -> bool:
        return isinstance(channel, HTTPChannel) and bool(channel.requests or channel.total_outbufs_len)


# ------------------------------------------------------------------------------------------------------------------


WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def prepare_bind(host: str) -> None:
    """Before `herald serve` / `herald web` does anything: refuse what the bind address makes unsafe, and let the
    server answer requests addressed to it.

    Debug pages show tracebacks and settings to whoever triggers an error, so they are for loopback only. Without
    HERALD_ALLOWED_HOSTS, the Host names allowed (settings.ALLOWED_HOSTS: loopback, HERALD_BASE_URL's host) gain the
    bind address; a wildcard bind is no name, so clients on other machines need HERALD_BASE_URL (or
    HERALD_ALLOWED_HOSTS) set to the name they use.
    """
    if settings.DEBUG and not is_loopback(host):
        raise CommandError(
            f"HERALD_DEBUG=1 shows tracebacks and settings to anyone who reaches the server: bind it to 127.0.0.1 "
            f"or ::1, not {host or 'every address'}."
        )
    if settings.ALLOWED_HOSTS_FROM_ENV:
        return
    if host in WILDCARD_HOSTS:
        if not settings.BASE_URL:
            names = ", ".join(settings.ALLOWED_HOSTS)
            print(
                f"herald: listening on every address, but answering only requests for {names}: set HERALD_BASE_URL "
                "(or HERALD_ALLOWED_HOSTS) to the name clients use.",
                file=sys.stderr,
            )
        return
    name = f"[{host}]" if ":" in host else host
    if name not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, name]


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def public_url(host: str, port: int) -> str:
    """Where a person on this machine reaches the server (a wildcard bind is reached through loopback)."""
    if settings.BASE_URL:
        return settings.BASE_URL + "/"
    if host in WILDCARD_HOSTS:
        host = "::1" if host == "::" else "127.0.0.1"
    return f"http://{bind_address(host, port)}/"


def cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and `taskset` narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def run_web(host: str, port: int, processes: int = 1, on_stop=None) -> None:
    # The server forks its worker processes: no database connection may cross the fork.
    connections.close_all()
    # Its access log has its own handler, outside settings.LOGGING: the filter goes on the logger (which its worker
    # processes inherit), since access lines quote the path and callback URLs carry a secret.
    logging.getLogger("gunicorn.access").addFilter(RedactCallbackSecrets())
    HeraldServer(
        {
            "bind": bind_address(host, port),
            "workers": processes,
            "worker_class": "herald.runtime.web.WaitressWorker",
            "accesslog": "-",
            "errorlog": "-",
            "loglevel": settings.LOGGING["root"]["level"].lower(),
            "proc_name": "herald",
            # Herald needs no runtime control, and gunicorn's default socket is one per user: two servers on
            # one machine would fight over it.
            "control_socket_disable": True,
        },
        on_stop=on_stop,
    ).run()
