"""A real Herald installation for crash tests: its own database and queue, real processes killed and restarted.

    with Installation(tmp_path, HERALD_FANOUT_BATCH="20") as herald:
        setup = herald.provision(gateway.url, contacts=2000, tps=150)   # workspace, token, channel, a big group
        herald.start("worker"); herald.start("web")                     # `herald worker`, `herald web`
        herald.api_post("/api/v2/broadcasts.json", {...})
        herald.kill("worker")                                           # SIGKILL: a crash, not a stop
        Msg.objects.using(herald.db) ...                                # its rows, read from the test

Embedded by default (a temp HERALD_DATA_DIR: SQLite and the file-system queue). When the environment names
PostgreSQL and Redis (HERALD_DATABASE_URL, HERALD_BROKER_URL=redis://...), the installation gets a throwaway
database on that server and Redis database 15, both wiped when it closes, so the suite's own data is never touched.

Run as `python -m herald.msgs.tests.live provision '{...}'` (by `Installation.provision`) it sets up the data
inside the installation's own environment and prints what the test needs as JSON.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import django
import httpx
import psycopg
import redis
from django.core.management import call_command
from django.db import connections, transaction
from django.db.utils import ConnectionHandler

# Bounds that end a hung test on a slow, busy machine; they don't judge speed.
START_LIMIT_SECONDS = 90
REDIS_TEST_DB = 15


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scale_urls() -> tuple[str, str] | None:
    """(database URL, broker URL) when the environment runs Herald on PostgreSQL + Redis, else None."""
    database, broker = os.environ.get("HERALD_DATABASE_URL", ""), os.environ.get("HERALD_BROKER_URL", "")
    if database.startswith("postgres") and broker.startswith("redis"):
        return database, broker
    return None


def backend_name() -> str:
    return "postgres+redis" if scale_urls() else "embedded"


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def child_pids(parent: int) -> list[int]:
    """Processes whose parent is `parent` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            # "pid (command) state ppid ...": the command may hold spaces, so split after its closing bracket.
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(stat.parent.name))
    return found


def _child_with_argument(parent: int, argument: bytes) -> int | None:
    for pid in child_pids(parent):
        with contextlib.suppress(OSError):
            if argument in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
                return pid
    return None


class Process:
    """One Herald command in its own session (so it and its children can be cleaned up together)."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log = log_dir / f"{name}.log"
        with open(self.log, "a") as out:
            out.write(f"--- herald {' '.join(args)}\n")
            out.flush()
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "herald.cli", *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the command's own process only, as the kernel's OOM killer or a power cut would."""
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def group_alive(self) -> bool:
        """Whether anything this command started still runs (e.g. a child that outlived it)."""
        try:
            os.killpg(self.popen.pid, 0)
            return True
        except ProcessLookupError:
            return False

    def kill_group(self) -> None:
        """Everything this command started (clean-up)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)


class Installation:
    def __init__(self, tmp_path: Path, **env):
        self.dir = tmp_path
        self.data_dir = tmp_path / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.backend = backend_name()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "DJANGO_"))}
        self.env.update(HERALD_DATA_DIR=str(self.data_dir), HERALD_LOG_LEVEL="INFO", PYTHONUNBUFFERED="1")
        if self.backend != "embedded":
            urls = scale_urls()
            assert urls is not None, "a backend other than embedded runs on the scale URLs"
            database, broker = urls
            self.database_name = f"herald_live_{uuid.uuid4().hex[:12]}"
            self._server_url = database
            self.env["HERALD_DATABASE_URL"] = _with_path(database, "/" + self.database_name)
            self.env["HERALD_BROKER_URL"] = _with_path(broker, f"/{REDIS_TEST_DB}")
        self.env.update(env)
        self.processes: dict[str, Process] = {}  # the latest of each command
        self.started: list[Process] = []  # every one, for the clean-up
        self.base_url = ""
        self.token = ""
        self.db = f"live_{uuid.uuid4().hex[:8]}"

    # --- set-up and tear-down -------------------------------------------------------------------------------
    def __enter__(self) -> "Installation":
        if self.backend != "embedded":
            self._admin_sql(f'CREATE DATABASE "{self.database_name}"')
            self._flush_redis()
        self._register_database()
        return self

    def __exit__(self, *exc):
        for process in self.started:
            process.kill_group()

        connections[self.db].close()
        del connections.settings[self.db]
        if self.backend != "embedded":
            self._flush_redis()
            self._admin_sql(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')

    def _admin_sql(self, statement: str) -> None:
        with psycopg.connect(self._server_url, autocommit=True) as connection:
            connection.execute(statement)

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
        return _child_with_argument(self.processes["serve"].popen.pid, b"worker")

    def delivery_pool(self) -> int | None:
        """The pid of the delivery pool that `herald worker` runs as its child, if one runs."""
        return _child_with_argument(self.processes["worker"].popen.pid, b"--deliveries-only")

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


def provision(gateway_url: str, contacts: int, tps: int | None, name: str) -> dict:
    """Runs inside the installation's environment (see the module docstring)."""

    django.setup()

    from herald.channels.tests.gateway import gateway_channel  # noqa: PLC0415 — after django.setup() above
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
    from herald import datadir

    datadir.ready()  # as `herald` would before its commands: settings only read the data dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "herald.settings")
    command, arguments = sys.argv[1], json.loads(sys.argv[2])
    commands: dict[str, Callable[..., dict]] = {"provision": provision, "send_task": send_task}
    print(json.dumps(commands[command](**arguments)))
