"""A real Herald installation for crash tests: its own database and queue, real processes killed and restarted.

    with Installation(tmp_path, HERALD_FANOUT_BATCH="20") as herald:
        setup = herald.provision(gateway.url, contacts=2000, tps=150)   # workspace, token, channel, a big group
        herald.start("worker"); herald.start("web")                     # `herald worker`, `herald web`
        herald.api_post("/api/v2/broadcasts.json", {...})
        herald.kill("worker")                                           # SIGKILL: a crash, not a stop
        Msg.objects.using(herald.db) ...                                # its rows, read from the test

Embedded by default (a temp HERALD_DATA_DIR: SQLite and the file-system queue). When the environment names
PostgreSQL and Redis (HERALD_DATABASE_URL, HERALD_BROKER_URL=redis://...), the installation gets a throwaway
database on that server and Redis database 15 (or HERALD_LIVE_REDIS_DB), both wiped when it closes, so the
suite's own data is never touched.

Run as `python -m herald.msgs.tests.live provision '{...}'` (by `Installation.provision`) it sets up the data
inside the installation's own environment and prints what the test needs as JSON.
"""

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import dj_database_url
import django
import httpx
import redis
from django.core.management import call_command
from django.db import connections, transaction
from django.db.utils import ConnectionHandler

from herald import datadir
from herald.testing.gateway import gateway_channel
from herald.testing.processes import (
    Child,
    ThrowawayDatabase,
    child_pids,
    command_line,
    free_port,
    herald_command,
    herald_env,
    with_path,
)

# Bounds that end a hung test on a slow, busy machine; they don't judge speed.
START_LIMIT_SECONDS = 90
SETTLE_LIMIT_SECONDS = 180  # a broadcast settling after a crash
# Redis database of a live installation; HERALD_LIVE_REDIS_DB picks another, so that two people sharing a machine's
# Redis don't wipe each other's (it is flushed before and after).
REDIS_TEST_DB = int(os.environ.get("HERALD_LIVE_REDIS_DB") or 15)


def scale_urls() -> tuple[str, str] | None:
    """(database URL, broker URL) when the environment runs Herald on PostgreSQL + Redis, else None."""
    database, broker = os.environ.get("HERALD_DATABASE_URL", ""), os.environ.get("HERALD_BROKER_URL", "")
    if database.startswith("postgres") and broker.startswith("redis"):
        return database, broker
    return None


def backend_name() -> str:
    return "postgres+redis" if scale_urls() else "embedded"


def _child_with_argument(parent: int, argument: str) -> int | None:
    for pid in child_pids(parent):
        if argument in command_line(pid):
            return pid
    return None


class Process(Child):
    """One Herald command in its own session (so it and its children can be cleaned up together); each start of
    `name` appends to one log, after a `--- herald ARGS` line."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log = log_dir / f"{name}.log"
        with open(self.log, "a") as out:
            out.write(f"--- herald {' '.join(args)}\n")
        super().__init__(herald_command(*args), env, self.log)


class Installation:
    def __init__(self, tmp_path: Path, **env):
        self.dir = tmp_path
        self.data_dir = tmp_path / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.backend = backend_name()
        self.env = herald_env(self.data_dir, HERALD_LOG_LEVEL="INFO", PYTHONUNBUFFERED="1")
        self.database = None
        if (urls := scale_urls()) is not None:  # the backend is postgres+redis
            server, broker = urls
            self.database = ThrowawayDatabase(server, prefix="herald_live")
            self.env["HERALD_DATABASE_URL"] = self.database.url
            self.env["HERALD_BROKER_URL"] = with_path(broker, f"/{REDIS_TEST_DB}")
        self.env.update(env)
        self.processes: dict[str, Process] = {}  # the latest of each command
        self.started: list[Process] = []  # every one, for the clean-up
        self.base_url = ""
        self.token = ""
        self.db = f"live_{uuid.uuid4().hex[:8]}"

    # --- set-up and tear-down -------------------------------------------------------------------------------
    def __enter__(self) -> "Installation":
        if self.database is not None:
            self.database.__enter__()
            self._flush_redis()
        self._register_database()
        return self

    def __exit__(self, *exc):
        for process in self.started:
            process.kill_group()
        connections[self.db].close()
        del connections.settings[self.db]
        if self.database is not None:
            self._flush_redis()
            self.database.__exit__(*exc)

    def _flush_redis(self) -> None:
        redis.Redis.from_url(self.env["HERALD_BROKER_URL"]).flushdb()

    def _register_database(self) -> None:
        """A Django database alias for this installation's database, so the test can read its rows."""
        url = self.env.get("HERALD_DATABASE_URL") or f"sqlite:///{self.data_dir / 'herald.sqlite3'}"
        config = dj_database_url.parse(url)
        if config["ENGINE"].endswith("sqlite3"):
            config["OPTIONS"] = {"timeout": 30}
        connections.settings[self.db] = ConnectionHandler({"default": config}).settings["default"]

    def provision(self, gateway_url: str, contacts: int, tps: int | None = None, name: str = "Crash test") -> dict:
        """Migrate, then a workspace, an admin token, an external channel to `gateway_url` and a group of `contacts`
        contacts (bulk inserts); returns {"token", "workspace", "channel", "group"}. Called again, another
        workspace; `api_post` then uses the latest one's token unless told."""
        args = {"gateway_url": gateway_url, "contacts": contacts, "tps": tps, "name": name}
        setup = self._run_here("provision", args)
        self.token = setup["token"]
        return setup

    # --- processes --------------------------------------------------------------------------------------------
    def start(self, name: str, concurrency: int = 4, **env) -> Process:
        """Start `herald worker` (with `concurrency` fan-out threads), `herald web` or `herald serve` and wait until
        it is ready; `env` adds to or overrides the installation's environment for this process only."""
        env = {**self.env, **env}
        if name == "worker":
            process = Process(name, ["worker", "--concurrency", str(concurrency)], env, self.dir)
            self.started.append(process)
            self._wait_for_log(process, "ready.")
        else:
            port = free_port()
            process = Process(name, [name, "--port", str(port)], env, self.dir)
            self.started.append(process)
            self.base_url = f"http://127.0.0.1:{port}"
            self._wait_until_serving(process)
        self.processes[name] = process
        return process

    def kill(self, name: str) -> None:
        self.processes[name].kill()

    def embedded_worker(self) -> int | None:
        """The pid of the `herald worker` that `herald serve` runs as its child, if one runs."""
        return _child_with_argument(self.processes["serve"].pid, "worker")

    def delivery_pool(self) -> int | None:
        """The pid of the delivery pool that `herald worker` runs as its child, if one runs."""
        return _child_with_argument(self.processes["worker"].pid, "--deliveries-only")

    def _wait_for_log(self, process: Process, text: str) -> None:
        """Wait for `text` in what the process printed since it started (each start appends to one log)."""
        deadline = time.monotonic() + START_LIMIT_SECONDS
        while time.monotonic() < deadline:
            assert process.alive(), f"{process.name} exited:\n{self.tail(process.name)}"
            log = process.log.read_text(errors="replace")
            if text in log[log.rfind("--- herald ") :]:
                return
            time.sleep(0.1)
        raise AssertionError(f"{process.name} not ready after {START_LIMIT_SECONDS} s:\n{self.tail(process.name)}")

    def _wait_until_serving(self, process: Process) -> None:
        deadline = time.monotonic() + START_LIMIT_SECONDS
        while time.monotonic() < deadline:
            assert process.alive(), f"{process.name} exited:\n{self.tail(process.name)}"
            try:
                httpx.get(f"{self.base_url}/api/v2/", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"{process.name} not serving after {START_LIMIT_SECONDS} s:\n{self.tail(process.name)}")

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in sorted(self.dir.glob("*.log")))

    # --- talking to it ----------------------------------------------------------------------------------------
    def api_post(self, path: str, body: dict, token: str | None = None, headers: dict | None = None) -> httpx.Response:
        headers = {**(headers or {}), "Authorization": f"Token {token or self.token}"}
        return httpx.post(self.base_url + path, json=body, headers=headers, timeout=30)

    def api_get(self, path: str, params: dict | None = None, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Token {token or self.token}"}
        return httpx.get(self.base_url + path, params=params, headers=headers, timeout=30)

    def queued(self, queue: str) -> int:
        """Tasks waiting in `queue` ("starts" and "celery": fan-out, "deliveries", "ticks")."""
        if self.backend == "embedded":
            return len(list((self.data_dir / "queue").glob(f"*.{queue}.msg")))
        return redis.Redis.from_url(self.env["HERALD_BROKER_URL"]).llen(queue)

    def empty_queue(self) -> int:
        """Lose every queued task, as a wiped broker or a lost queue folder would; returns how many there were."""
        if self.backend == "embedded":
            tasks = list((self.data_dir / "queue").glob("*.msg"))  # (not the transport's control folder)
            for path in tasks:
                path.unlink()
            return len(tasks)
        lost = sum(self.queued(queue) for queue in ("starts", "celery", "ticks", "deliveries"))
        self._flush_redis()
        return lost

    def send_task(self, name: str, args: list, queue: str) -> None:
        """Queue task `name` on `queue` as Herald itself would (in the installation's environment), e.g. on a queue
        an older Herald routed it to."""
        self._run_here("send_task", {"name": name, "args": args, "queue": queue})

    def _run_here(self, command: str, arguments: dict) -> dict:
        """Run `command` of this module's __main__ in the installation's environment; what it printed (JSON)."""
        done = subprocess.run(
            [sys.executable, "-m", "herald.msgs.tests.live", command, json.dumps(arguments)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])


class Watch:
    """Reads one broadcast's progress from the installation's database (from the test process, where Django is
    set up; this module's own `__main__` imports no model)."""

    def __init__(self, herald: Installation, broadcast_id: int):
        self.db = herald.db
        self.broadcast_id = broadcast_id

    @property
    def broadcast(self):
        from herald.msgs.models import Broadcast  # noqa: PLC0415 — this module is also a child's __main__, which imports no model

        return Broadcast.objects.using(self.db).get(id=self.broadcast_id)

    @property
    def msgs(self):
        from herald.msgs.models import Msg  # noqa: PLC0415 — this module is also a child's __main__, which imports no model

        return Msg.objects.using(self.db).filter(broadcast_id=self.broadcast_id)

    def count(self, *statuses) -> int:
        return self.msgs.filter(status__in=statuses).count()

    def wait_until(self, condition, what: str, too_late=lambda: False, timeout: float = SETTLE_LIMIT_SECONDS):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            assert not too_late(), f"missed the moment: {what}"
            time.sleep(0.01)
        raise AssertionError(f"timed out waiting for: {what}")

    def settled(self) -> bool:
        """Completed, every recipient's message made, and none still on its way."""
        from herald.msgs.models import BroadcastStatus, MsgStatus  # noqa: PLC0415 — this module is also a child's __main__, which imports no model

        unfinished = (
            MsgStatus.QUEUED,
            MsgStatus.ERRORED,
            MsgStatus.INITIALIZING,
            MsgStatus.PENDING,
            MsgStatus.HELD_QUEUED,
            MsgStatus.HELD_ERRORED,
        )
        broadcast = self.broadcast
        return (
            broadcast.status == BroadcastStatus.COMPLETED
            and broadcast.msg_count == broadcast.contact_count
            and not self.msgs.filter(status__in=unfinished).exists()
        )


def provision(gateway_url: str, contacts: int, tps: int | None, name: str) -> dict:
    """Runs inside the installation's environment (see the module docstring)."""
    django.setup()
    from herald.contacts.models import Contact, ContactGroup, ContactURN  # noqa: PLC0415 — after django.setup() above
    from herald.workspaces.provisioning import create_token, create_workspace  # noqa: PLC0415 — after django.setup() above

    call_command("migrate", interactive=False, verbosity=0)
    workspace = create_workspace(name, country="RW", api_rates=["v2=1000000/hour"])
    _, key = create_token(workspace, "admin@example.com", "admin")
    channel = gateway_channel(workspace, gateway_url, tps=tps)
    with transaction.atomic():
        group = ContactGroup.objects.create(workspace=workspace, name="Everyone")
        Contact.objects.bulk_create(
            [Contact(workspace=workspace, name=f"Contact {n}") for n in range(contacts)], batch_size=1000
        )
        ids = list(Contact.objects.filter(workspace=workspace).order_by("id").values_list("id", flat=True))
        ContactURN.objects.bulk_create(
            [
                ContactURN(
                    workspace=workspace,
                    contact_id=contact_id,
                    scheme="tel",
                    path=(path := f"+25078{n:07d}"),
                    identity=f"tel:{path}",
                )
                for n, contact_id in enumerate(ids)
            ],
            batch_size=1000,
        )
        Membership = ContactGroup.contacts.through
        Membership.objects.bulk_create(
            [Membership(contactgroup_id=group.id, contact_id=contact_id) for contact_id in ids], batch_size=1000
        )
    return {"token": key, "workspace": str(workspace.uuid), "channel": channel.id, "group": str(group.uuid)}


def send_task(name: str, args: list, queue: str) -> dict:
    """Runs inside the installation's environment (see `Installation.send_task`)."""
    django.setup()
    from herald.runtime.celery import app  # noqa: PLC0415 — after django.setup() above

    app.send_task(name, args=args, queue=queue)
    return {}


if __name__ == "__main__":
    datadir.ready()  # as `herald` would before its commands: settings only read the data dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "herald.settings")
    command, arguments = sys.argv[1], json.loads(sys.argv[2])
    commands: dict[str, Callable[..., dict]] = {"provision": provision, "send_task": send_task}
    print(json.dumps(commands[command](**arguments)))
