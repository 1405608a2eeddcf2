"""The work engine. Embedded default: a file-system queue in the data dir (no server, survives restarts);
`HERALD_BROKER_URL=redis://...` for many machines. The database stays the source of truth: every task is safe to
run twice, and the periodic `tick` re-enqueues anything a crash or a lost message left behind.
"""

import os

from celery import Celery
from celery.signals import beat_embedded_init, worker_shutdown, worker_shutting_down

from herald.runtime.supervisor import die_with_parent

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "herald.settings")

app = Celery("herald")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()  # each installed app's tasks.py


@beat_embedded_init.connect
def _beat_dies_with_its_worker(**kwargs):
    # `herald worker` runs the tick's scheduler as a child process. Without this, a worker killed outright leaves
    # it behind, ticking forever, and the restarted worker starts a second one beside it.
    die_with_parent()


@worker_shutting_down.connect
def _finish_sending_soon(**kwargs):
    # A warm shutdown waits for running tasks: ask deliveries to stop after the chunk on the wire, so a restart
    # neither waits for a task's whole turn nor cuts sends mid-way.
    from herald.msgs import delivery  # noqa: PLC0415 — msgs needs Django's app registry, not ready when the Celery app is made

    delivery.stop_soon()


@worker_shutdown.connect
def _record_parked_sends(**kwargs):
    # Chunks parked by delivery tasks (a slow gateway's, see herald/msgs/delivery.py) still wait for answers: record
    # them before the process exits, or those messages would be sent again by the next worker.
    from herald.msgs import delivery  # noqa: PLC0415 — msgs needs Django's app registry, not ready when the Celery app is made

    delivery.wait_for_parked()
