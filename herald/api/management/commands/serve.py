"""`herald serve`: migrate, set up a demo workspace on first run, then serve the API with gunicorn."""

import json

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections
from gunicorn.app.base import BaseApplication

from herald.workspaces.bootstrap import Demo, create_demo_if_empty, demo_info

# One process: the default cache (rate limits) and SQLite are per machine, so requests share them through
# threads rather than separate worker processes.
THREADS = 8


class HeraldServer(BaseApplication):
    """gunicorn, embedded: the production server without a config file or a second command."""

    def __init__(self, options: dict):
        self.options = options
        super().__init__()

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


class Command(BaseCommand):
    help = "Serve Herald: apply migrations, create a demo workspace on an empty database, and serve the API."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print the start-up information as one JSON line"
        )

    def handle(self, *args, host, port, as_json, **options):
        call_command("migrate", interactive=False, verbosity=0)
        demo = create_demo_if_empty()
        url = public_url(host, port)
        if as_json:
            self.stdout.write(json.dumps(demo_info(demo, url)))
        else:
            self.stdout.write(self.welcome(demo, url))
        self.stdout.flush()
        # The server forks its worker: no database connection may cross the fork.
        connections.close_all()
        HeraldServer(
            {
                "bind": bind_address(host, port),
                "workers": 1,
                "worker_class": "gthread",
                "threads": THREADS,
                "accesslog": "-",
                "errorlog": "-",
                "loglevel": settings.LOGGING["root"]["level"].lower(),
                "proc_name": "herald",
                # Herald needs no runtime control, and gunicorn's default socket is one per user: two servers on
                # one machine would fight over it.
                "control_socket_disable": True,
            }
        ).run()

    def welcome(self, demo: Demo | None, url: str) -> str:
        info = demo_info(demo, url)
        lines = [f"Herald is starting at {url}  (API docs: {info['docs']})"]
        if demo:
            lines += [
                "",
                f'Created the workspace "Demo" ({demo.workspace}) with the admin {demo.email}.',
                f"Its API token: {demo.token}",
                "This is the only time it is shown: Herald stores only its hash. Make more with `herald token create`.",
                "",
                "Send a broadcast:",
                "",
                f"  {info['curl']}",
                "",
            ]
        else:
            lines.append("Need a token? herald token create --workspace UUID --email you@example.com")
        return "\n".join(lines)
