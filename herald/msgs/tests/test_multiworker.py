"""Several `herald worker` processes on one broadcast, as on a multi-machine setup (PostgreSQL + Redis).

Two real workers (`--concurrency 2` each, each with its own tick) share one broadcast to a few thousand contacts:
the start task is enqueued three times, the audience is cut into range tasks that both workers take, and two more
tasks walk the whole audience meanwhile, so batches race for the same rows. Afterwards every contact has exactly
one message, the gateway (a real HTTP server in this process) saw each message id once, and the broadcast is
completed with exact progress.

Needs what a multi-machine setup needs, so it runs only on PostgreSQL with a Redis broker (CI's second pass):
the workers connect to this test's own database (pytest-django's `test_<name>`) and to Redis database 14 of the
suite's Redis server, which nothing else uses (other tests clear database 0, the suite's cache, as they start).
"""

import re
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from herald.contacts.models import Contact, ContactGroup, ContactURN
from herald.msgs.models import Broadcast, BroadcastStatus, Msg, MsgStatus
from herald.runtime.celery import app as celery_app
from herald.testing.factories import make_broadcast
from herald.testing.gateway import gateway_channel
from herald.testing.processes import Child, herald_command, herald_env, postgres_url, with_path

SCALE_SETUP = settings.DATABASES["default"]["ENGINE"].endswith("postgresql") and settings.CELERY_BROKER_URL.startswith(
    "redis://"
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not SCALE_SETUP,
        reason="needs HERALD_DATABASE_URL=postgres://... and HERALD_BROKER_URL=redis://... (CI's second pass)",
    ),
]

CONTACTS = 3000
REDIS_DB = 14
WORKERS = 2
# Bounds that end a hung test on a slow, busy machine; they don't judge speed.
START_LIMIT_SECONDS = 90
SETTLE_LIMIT_SECONDS = 240


class Worker:
    """`herald worker --concurrency 2` in its own data dir (its own tick schedule), output to a log file."""

    def __init__(self, name: str, tmp_path: Path, env: dict):
        data_dir = tmp_path / name
        data_dir.mkdir()
        self.name = name
        self.log = tmp_path / f"{name}.log"
        command = herald_command("worker", "--concurrency", "2")
        self.child = Child(command, {**env, "HERALD_DATA_DIR": str(data_dir)}, self.log)
        self.process = self.child.popen

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_LIMIT_SECONDS
        while "ready." not in self.output():
            assert self.process.poll() is None, f"{self.name} exited:\n{self.output()}"
            assert time.monotonic() < deadline, f"{self.name} not ready:\n{self.output()}"
            time.sleep(0.1)

    def stop(self) -> None:
        self.child.stop()  # SIGTERM, a warm shutdown: finish the task at hand


def test_database_url() -> str:
    """This test's database (pytest-django's test_<name>), as a URL for the worker processes."""
    return postgres_url(connection.settings_dict)


test_database_url.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test (pytest reads __test__)


def make_audience(workspace, size: int) -> ContactGroup:
    """A group of `size` contacts with one tel URN each, in a few bulk inserts."""
    group = ContactGroup.objects.create(workspace=workspace, name="Everyone")
    contacts = Contact.objects.bulk_create([Contact(workspace=workspace, name=f"C{n}") for n in range(size)])
    ContactURN.objects.bulk_create(
        ContactURN(workspace=workspace, contact=c, scheme="tel", path=f"+25078{n:07d}", identity=f"tel:+25078{n:07d}")
        for n, c in enumerate(contacts)
    )
    group.contacts.add(*contacts)
    return group


def wait_for(condition, broadcast, workers) -> None:
    deadline = time.monotonic() + SETTLE_LIMIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, progress(broadcast, workers)
        assert all(w.process.poll() is None for w in workers), progress(broadcast, workers)
        time.sleep(0.05)


def progress(broadcast, workers) -> str:
    """What a failure message needs: where the broadcast got to, and the end of each worker's output."""
    broadcast.refresh_from_db()
    statuses = Counter(Msg.objects.filter(broadcast=broadcast).values_list("status", flat=True))
    logs = "\n".join(f"--- {w.name}:\n{w.output()[-3000:]}" for w in workers)
    return f"broadcast {broadcast.status}, {broadcast.msg_count}/{broadcast.contact_count}, messages {statuses}\n{logs}"


@pytest.fixture
def broker_url():
    """The suite's Redis server, database REDIS_DB: emptied before and after."""

    url = with_path(settings.CELERY_BROKER_URL, f"/{REDIS_DB}")
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()


@pytest.fixture
def workers(tmp_path, broker_url):
    env = herald_env()
    env.update(
        HERALD_DATABASE_URL=test_database_url(),
        HERALD_BROKER_URL=broker_url,
        HERALD_LOG_LEVEL="INFO",
        # Small tasks and batches: the broadcast becomes a dozen range tasks of five batches each.
        HERALD_FANOUT_TASK_SIZE="250",
        HERALD_FANOUT_BATCH="50",
        HERALD_SEND_RETRY_DELAYS="1",  # a gateway hiccup on a busy test machine is retried at once
        PYTHONUNBUFFERED="1",
    )
    started = [Worker(f"worker{n}", tmp_path, env) for n in range(1, WORKERS + 1)]
    try:
        for worker in started:
            worker.wait_until_ready()
        yield started
    finally:
        for worker in started:
            worker.stop()


def test_two_workers_share_broadcasts_and_send_each_message_once(workspace, gateway, broker_url, workers):
    gateway_channel(workspace, gateway.url)
    group = make_audience(workspace, CONTACTS)

    # 1. Shared: the start task, delivered three times (only one of them plans), cuts the audience into a dozen range
    # tasks; each idle worker takes two of them at once (it holds as many tasks as it has threads).
    shared = make_broadcast(workspace, "Hi @contact.name", groups=[group])
    send(broker_url, *[("start_broadcast", shared.id)] * 3)
    wait_until_sent(shared, workers)
    for worker in workers:
        assert created_by(worker, shared) > 0, worker.output()[-3000:]

    # 2. Raced: besides its start, two tasks walk the whole audience at once, as a fan-out resumed while still
    # running would: their batches, and the range tasks', race for the same rows on both workers.
    raced = make_broadcast(workspace, "Hello again @contact.name", groups=[group])
    send(
        broker_url,
        ("fan_out_range", raced.id, 0, None),
        ("start_broadcast", raced.id),
        ("fan_out_range", raced.id, 0, None),
    )
    wait_until_sent(raced, workers)

    for worker in workers:
        worker.stop()  # nothing more may arrive at the gateway after this
        assert "Traceback" not in worker.output(), worker.output()[-3000:]
    seen = Counter(request.json["id"] for request in gateway.requests)
    assert set(seen.values()) == {1}, [uid for uid, times in seen.items() if times > 1][:10]
    members = set(group.contacts.values_list("id", flat=True))
    for broadcast in (shared, raced):
        messages = Msg.objects.filter(broadcast=broadcast)
        per_contact = Counter(messages.values_list("contact_id", flat=True))
        assert set(per_contact) == members
        assert set(per_contact.values()) == {1}
        assert {str(u) for u in messages.values_list("uuid", flat=True)} <= set(seen)
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.COMPLETED
        assert broadcast.contact_count == broadcast.msg_count == CONTACTS
    assert len(seen) == 2 * CONTACTS
    # Every message was created once, by one task: the tasks' own counts add up.
    assert sum(created_by(w, b) for w in workers for b in (shared, raced)) == 2 * CONTACTS


def send(broker_url: str, *tasks) -> None:
    """Enqueue `(task name, *args)` tuples, in order, on the workers' broker."""
    with celery_app.connection_for_write(broker_url) as broker:
        for name, *args in tasks:
            celery_app.send_task(f"herald.msgs.tasks.{name}", args=args, connection=broker)


def wait_until_sent(broadcast, workers) -> None:
    def done():
        completed = Broadcast.objects.filter(id=broadcast.id, status=BroadcastStatus.COMPLETED).exists()
        return completed and Msg.objects.filter(broadcast=broadcast, status=MsgStatus.WIRED).count() == CONTACTS

    wait_for(done, broadcast, workers)


def created_by(worker: Worker, broadcast) -> int:
    """Messages of `broadcast` that `worker`'s fan-out tasks say they created (from its log)."""
    found = re.findall(rf"broadcast {broadcast.id}, contacts \S+ \S+: (\d+) messages created", worker.output())
    return sum(int(n) for n in found)
