from django.conf import settings
from django.core.management.base import BaseCommand

from herald.celery import app


class Command(BaseCommand):
    help = "Run a sending worker: fans broadcasts out into messages and delivers them through channels."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=4, help="tasks run at once (threads); default 4")
        parser.add_argument(
            "--no-tick",
            action="store_true",
            help="don't run the periodic tick here (run it on at least one worker; extra ticks are harmless)",
        )
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args, **options):
        argv = [
            "worker",
            "--pool=threads",
            f"--concurrency={options['concurrency']}",
            f"--loglevel={options['loglevel']}",
            "--without-gossip",
            "--without-mingle",
        ]
        if not options["no_tick"]:
            argv += ["--beat", f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}"]
        app.worker_main(argv=argv)
