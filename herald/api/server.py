"""The production web server (gunicorn, embedded) that `herald serve` and `herald web` run."""

import logging

from django.conf import settings
from django.db import connections
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from herald.channels.logfilters import RedactCallbackSecrets

# One process with threads by default: the default cache (rate limits) and SQLite are per machine, so requests
# share them through threads rather than separate processes. With Redis configured, `herald web --processes N`.
THREADS = 8


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
        from herald.wsgi import application

        return application


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def public_url(host: str, port: int) -> str:
    """Where a person on this machine reaches the server (a wildcard bind is reached through loopback)."""
    if settings.BASE_URL:
        return settings.BASE_URL + "/"
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://{bind_address(host, port)}/"


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
            "worker_class": "gthread",
            "threads": THREADS,
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
