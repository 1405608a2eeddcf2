"""The work engine. Embedded default: a file-system queue in the data dir (no server, survives restarts);
`HERALD_BROKER_URL=redis://...` for many machines. The database stays the source of truth: every task is safe to
run twice, and the periodic `tick` re-enqueues anything a crash or a lost message left behind.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "herald.settings")

app = Celery("herald")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["herald.msgs"])
