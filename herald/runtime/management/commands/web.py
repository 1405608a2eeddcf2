from django.core.management.base import BaseCommand

from herald.runtime.web import prepare_bind, run_web


class Command(BaseCommand):
    help = "Serve only the web API (no worker): for machines of a multi-machine setup. Run `herald migrate` first."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
        parser.add_argument("--processes", type=int, default=1, help="server processes sharing the port (default 1)")

    def handle(self, *args, host, port, processes, **options):
        prepare_bind(host)
        run_web(host, port, processes)
