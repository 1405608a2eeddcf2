"""`herald serve`: migrate, set up a demo workspace on first run, then run the sending worker and serve the API."""

import json

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from herald.runtime.demo import Demo, create_demo_if_empty, demo_info
from herald.runtime.supervisor import embedded_worker
from herald.runtime.web import cores, prepare_bind, public_url, run_web


class Command(BaseCommand):
    help = (
        "Run Herald on this machine: apply migrations, create a demo workspace on an empty database, start the "
        "sending worker and serve the API."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
        parser.add_argument(
            "--web-processes",
            type=int,
            default=None,
            help=f"web server processes, sharing the port, the database and the queue (default: the number of "
            f"cores, here {cores()}; 1 serves from one process)",
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print the start-up information as one JSON line"
        )

    def handle(self, *args, host, port, web_processes, as_json, **options):
        processes = cores() if web_processes is None else web_processes
        if processes < 1:
            raise CommandError(f"--web-processes must be 1 or more, not {processes}.")
        prepare_bind(host)
        # Once, here, before the web processes fork: they share the migrated database and the one demo.
        call_command("migrate", interactive=False, verbosity=0)
        demo = create_demo_if_empty()
        url = public_url(host, port)
        if as_json:
            self.stdout.write(json.dumps(demo_info(demo, url)))
        else:
            self.stdout.write(self.welcome(demo, url))
        self.stdout.flush()
        with embedded_worker() as worker:
            run_web(host, port, processes, on_stop=worker.stop_soon)

    def welcome(self, demo: Demo | None, url: str) -> str:
        info = demo_info(demo, url)
        lines = [
            f"Herald is starting at {url}  (API docs: {info['docs']})",
            f"Sign in to the web interface at {info['sign_in']}",
        ]
        if demo:
            lines += [
                "",
                f'Created the workspace "Demo" ({demo.workspace}) with the admin {demo.email}.',
                f"Its API token: {demo.token}",
                f"Its web password: {demo.password}",
                "This is the only time they are shown: Herald stores only their hashes. Make more with "
                "`herald token create` and `herald user create`.",
                "",
                "Send a broadcast:",
                "",
                f"  {info['curl']}",
                "",
            ]
        else:
            lines.append("Need a token? herald token create --workspace UUID --email you@example.com")
            lines.append("A user to sign in? herald user create --workspace UUID --email you@example.com")
        return "\n".join(lines)
