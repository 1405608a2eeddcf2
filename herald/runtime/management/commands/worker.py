import argparse

from celery.signals import worker_shutting_down
from django.conf import settings
from django.core.management.base import BaseCommand

from herald.runtime.celery import app
from herald.runtime.supervisor import WorkerSupervisor

DELIVERIES_ONLY = "--deliveries-only"
WEBHOOKS_ONLY = "--webhooks-only"


class Command(BaseCommand):
    help = (
        "Run a sending worker: fans broadcasts out into messages, delivers them through channels and POSTs webhook "
        "events, in three pools of threads so that none waits for another."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--concurrency", type=int, default=4, help="fan-out tasks and ticks run at once (threads); default 4"
        )
        parser.add_argument(
            "--delivery-concurrency",
            type=int,
            help="channels delivered at once (threads of the delivery pool); default: the same as --concurrency",
        )
        parser.add_argument(
            "--webhook-concurrency",
            type=int,
            default=2,
            help="webhook subscriptions served at once (threads of the webhook pool; each has up to "
            "HERALD_WEBHOOKS_CONCURRENCY requests in flight); default 2",
        )
        parser.add_argument(
            "--no-tick",
            action="store_true",
            help="don't run the periodic tick here (run it on at least one worker; extra ticks are harmless)",
        )
        parser.add_argument("--loglevel", default="INFO")
        # The delivery pool: a process of its own, which the worker starts (and restarts) itself.
        parser.add_argument(DELIVERIES_ONLY, action="store_true", help=argparse.SUPPRESS)
        # The webhook pool, likewise: a slow or dead receiver holds only its threads, never a sending one.
        parser.add_argument(WEBHOOKS_ONLY, action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        deliveries = options["delivery_concurrency"] or options["concurrency"]
        if options["deliveries_only"]:
            self.run_pool("deliveries", [settings.DELIVERY_QUEUE], deliveries, options["loglevel"], beat=False)
            return
        if options["webhooks_only"]:
            webhooks = options["webhook_concurrency"]
            self.run_pool("webhooks", [settings.WEBHOOK_QUEUE], webhooks, options["loglevel"], beat=False)
            return
        # Each its own process: a Celery worker runs one pool. Each stops when this worker stops, dies with it, and
        # is started again if it dies on its own.
        loglevel = f"--loglevel={options['loglevel']}"
        pools = [
            WorkerSupervisor(
                ["worker", DELIVERIES_ONLY, f"--delivery-concurrency={deliveries}", loglevel],
                name="delivery pool",
                stop_timeout=settings.CHANNEL_SEND_TIMEOUT + 15,  # its sends on the wire get their answers
            ),
            WorkerSupervisor(
                ["worker", WEBHOOKS_ONLY, f"--webhook-concurrency={options['webhook_concurrency']}", loglevel],
                name="webhook pool",
                stop_timeout=settings.WEBHOOKS_TIMEOUT + 15,
            ),
        ]
        for pool in pools:
            worker_shutting_down.connect(lambda pool=pool, **kwargs: pool.stop_soon(), weak=False)
            pool.start()
        try:
            queues, beat = settings.FANOUT_QUEUES, not options["no_tick"]
            self.run_pool("celery", queues, options["concurrency"], options["loglevel"], beat=beat)
        finally:
            for pool in pools:
                pool.stop()

    def run_pool(self, name: str, queues: list[str], concurrency: int, loglevel: str, beat: bool) -> None:
        argv = [
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency}",
            f"--queues={','.join(queues)}",
            f"--hostname={name}@%h",
            f"--loglevel={loglevel}",
            "--without-gossip",
            "--without-mingle",
        ]
        if beat:
            argv += ["--beat", f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}"]
        app.worker_main(argv=argv)
