"""Load: 50 concurrent API clients mixing `GET /api/v2/broadcasts.json` and `POST /api/v2/broadcasts.json` for 60 s.

Setups, each on a fresh database:
- embedded: `herald serve` (SQLite, the file-system queue, its worker child beside gunicorn), twice in the same run:
  with one web process (`--web-processes 1`, the baseline) and with its default, a web process per core;
- PostgreSQL + Redis: `herald web` + `herald worker` (needs HERALD_BENCH_POSTGRES_URL or a PostgreSQL
  HERALD_DATABASE_URL, and a redis:// HERALD_BROKER_URL, as `eval "$(bash .ci/services)"` sets; Redis database 14
  is used and wiped).
The data is the API benchmark's (300 broadcasts, a group of 50); every created broadcast goes to that group and a
URN, so the worker fans out and delivers (through an external channel, to the local sink) while the API is read and
written. Each client is a thread with its own keep-alive httpx client: one create for every three lists.

Figures per setup: requests/s and p50 / p99 latency of each operation; 5xx answers and "database is locked" in the
servers' output, which must both be 0; whether anything was lost or stored twice (every 201 is one stored broadcast,
no broadcast has two messages to one contact); the memory of each process of the server while it was loaded. A full
250-item list page costs ~100 ms of server CPU (see the API benchmark), so one server process answers about ten a
second: 50 clients mostly queue, and the latencies show it. The embedded default's figures are compared with the
one-process run's (target: p50 halved on two cores).

Not a test: `python -m bench --only load`, or alone
`python -m bench.load [--seconds 60] [--clients 50] [--setups embedded,postgres]`.
"""

import argparse
import contextlib
import os
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

from herald.runtime.web import cores
from herald.testing.processes import child_pids, command_line, free_port, herald_command, with_path

from .harness import (
    BenchError,
    Row,
    background,
    child_env,
    database,
    percentile,
    postgres_available,
    run_child,
    wait_for_port,
)
from .sink import RunningSink

CLIENTS = 50
SECONDS = 60
QUICK_SECONDS = 10
CREATE_SHARE = 0.25  # one create for every three lists
REDIS_BENCH_DB = 14
LOCKED = "database is locked"
SETUPS = ("embedded", "postgres")
LABELS = {"embedded": "embedded (serve, SQLite)", "postgres": "PostgreSQL + Redis (web + worker)"}
P50_TARGET = 0.5  # the embedded default's p50 against one web process's, on two cores


def run(quick: bool, log, seconds: float | None = None, clients: int = CLIENTS, setups=SETUPS) -> list[Row]:
    seconds = seconds or (QUICK_SECONDS if quick else SECONDS)
    rows = []
    for name in setups:
        if name == "postgres":
            reason = postgres_available() or (None if redis_url() else "HERALD_BROKER_URL is not a redis:// URL")
            if reason:
                log(f"load: PostgreSQL + Redis skipped: {reason}")
                rows.append(Row("load", "PostgreSQL + Redis (did not run)", None, "", note=reason))
                continue
            log(f"load: {name}, {clients} clients for {seconds:g} s")
            rows += _rows(LABELS[name], run_setup(name, seconds, clients))
            continue
        # The baseline first: the same server with one web process, on a database of its own.
        log(f"load: {name} with 1 web process, {clients} clients for {seconds:g} s")
        one = run_setup(name, seconds, clients, web_processes=1)
        rows += _rows(f"{LABELS[name]}, 1 web process", one)
        log(f"load: {name} with a web process per core ({cores()}), {clients} clients for {seconds:g} s")
        every = run_setup(name, seconds, clients)
        rows += _rows(f"{LABELS[name]}, {cores()} web processes (default)", every, baseline=one)
    return rows


def redis_url() -> str | None:
    url = os.environ.get("HERALD_BROKER_URL", "")
    if not url.startswith("redis"):
        return None
    return with_path(url, f"/{REDIS_BENCH_DB}")


def _flush_redis() -> None:
    import redis

    redis.Redis.from_url(redis_url()).flushdb()


def run_setup(name: str, seconds: float, clients: int, web_processes: int | None = None) -> dict:
    """One setup under load; `web_processes` is `herald serve --web-processes` (None: its default)."""
    kind = "sqlite" if name == "embedded" else "postgresql"
    extra = {} if name == "embedded" else {"HERALD_BROKER_URL": redis_url()}
    if extra:
        _flush_redis()
    try:
        with RunningSink() as sink, database(kind) as db:
            setup = run_child("bench.load:setup", db, env=extra, sink_url=sink.url)
            env = child_env(db, **extra)
            web_log, worker_log = db.data_dir / "web.log", db.data_dir / "worker.log"
            port = free_port()
            if name == "embedded":
                options = [] if web_processes is None else ["--web-processes", str(web_processes)]
                server_command = herald_command("serve", "--port", str(port), *options)
            else:
                server_command = herald_command("web", "--port", str(port))
            # `herald serve` runs its own worker; the scaled setup runs one beside the web server.
            worker = herald_command("worker")
            beside = contextlib.nullcontext() if name == "embedded" else background(worker, env, worker_log)
            with background(server_command, env, web_log) as server, beside:
                wait_for_port(port, server, web_log)
                before = server_processes(server.pid)
                result = hammer(f"http://127.0.0.1:{port}", setup, seconds, clients)
                after = server_processes(server.pid)
                result["processes"], result["cpu"] = after, cpu_used(before, after)
                result["cpu_wait"] = cpu_used(before, after, waited=True)
            result.update(run_child("bench.load:stored", db, env=extra, before=setup["broadcasts"]))
            output = "\n".join(path.read_text(errors="replace") for path in (web_log, worker_log) if path.exists())
            result["locked"] = output.count(LOCKED)
            # ERROR lines, and CRITICAL ones (a worker that stops on an "Unrecoverable error" says so that way).
            result["server_errors_logged"] = sum(
                1 for line in output.splitlines() if " ERROR " in line or " CRITICAL " in line
            )
            result["delivered"] = len(sink.times("/load"))
            return result
    finally:
        if extra:
            _flush_redis()


def hammer(base: str, setup: dict, seconds: float, clients: int) -> dict:
    """`clients` threads, each looping list or create (at random, seeded) until `seconds` have passed."""
    url = f"{base}/api/v2/broadcasts.json"
    headers = {"Authorization": f"Token {setup['token']}"}
    lock = threading.Lock()
    latencies: dict[str, list[float]] = {"list": [], "create": []}
    statuses: Counter = Counter()
    transport_errors: Counter = Counter()
    clock = {}
    # Everyone starts together, once every connection is open; the last to arrive sets the clock.
    start_together = threading.Barrier(
        clients + 1, action=lambda: clock.update(began=time.perf_counter(), deadline=time.monotonic() + seconds)
    )

    def client_loop(seed: int):
        choose = random.Random(seed)
        with httpx.Client(headers=headers, timeout=60) as client:
            client.get(url, params={"after": "2100-01-01T00:00:00Z"})  # open the connection: not counted
            start_together.wait()
            while time.monotonic() < clock["deadline"]:
                operation = "create" if choose.random() < CREATE_SHARE else "list"
                started = time.perf_counter()
                try:
                    response = client.post(url, json=setup["post_body"]) if operation == "create" else client.get(url)
                except httpx.TransportError as exc:
                    with lock:
                        transport_errors[type(exc).__name__] += 1
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies[operation].append(elapsed)
                    statuses[(operation, response.status_code)] += 1

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start_together.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - clock["began"]
    if not latencies["list"] and not latencies["create"]:
        raise BenchError(f"no request got an answer: {dict(transport_errors)}")
    return {
        "seconds": elapsed,
        "latencies": latencies,
        "statuses": statuses,
        "transport_errors": transport_errors,
    }


@dataclass
class Process:
    role: str
    pid: int
    rss_mb: float
    pss_mb: float
    cpu_seconds: float  # user + system, since it started
    # Runnable but waiting for a core (its live threads, since each started): on a shared machine, how much of the
    # time others' processes took.
    cpu_wait_seconds: float


def server_processes(root: int) -> list[Process]:
    """`root` and everything under it. PSS splits the pages processes share (what a fork did not copy) between
    them, so the PSS figures add up to what the server really costs; RSS counts shared pages in each process."""
    found = []
    pending = [(root, "server (master)")]
    while pending:
        pid, role = pending.pop(0)
        pending += [(child, _role(child, role)) for child in sorted(child_pids(pid))]
        memory = {}
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    key, _, value = line.partition(":")
                    if key in ("Rss", "Pss"):
                        memory[key] = int(value.split()[0]) / 1024
            # "pid (command) state ppid ...": utime and stime are the 14th and 15th fields.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            waited = 0.0
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    waited += int((task / "schedstat").read_text().split()[1]) / 1e9
            found.append(Process(role, pid, memory["Rss"], memory["Pss"], cpu, waited))
    return found


def cpu_used(before: list[Process], after: list[Process], waited: bool = False) -> dict[str, float]:
    """CPU seconds each role used between two looks (a process started in between counts from zero); with
    `waited`, the seconds its threads waited for a core instead."""
    figure = (lambda p: p.cpu_wait_seconds) if waited else (lambda p: p.cpu_seconds)
    started = {process.pid: figure(process) for process in before}
    used: Counter = Counter()
    for process in after:
        used[process.role] += max(0.0, figure(process) - started.get(process.pid, 0.0))
    return dict(used)


def _role(pid: int, parent_role: str) -> str:
    arguments = command_line(pid)
    if "--deliveries-only" in arguments:
        return "delivery pool"
    if "--webhooks-only" in arguments:
        return "webhook pool"
    if "worker" in arguments:
        # The worker's own beat (tick scheduler) is a fork of it, with its arguments.
        return "worker's beat" if parent_role == "worker" else "worker"
    return "web process"


def cpu_shares(result: dict) -> str:
    """Each role's CPU seconds during the run, and the seconds its threads waited for a core."""
    return ", ".join(
        f"{role} {seconds:.1f} s (waited {result['cpu_wait'].get(role, 0.0):.1f} s)"
        for role, seconds in sorted(result["cpu"].items())
    )


def _process_rows(label: str, result: dict) -> list[Row]:
    """What the server's processes cost: memory at the end of the load, and CPU during it."""
    processes: list[Process] = result["processes"]
    parts = "; ".join(f"{p.role} {p.rss_mb:.0f}/{p.pss_mb:.0f}" for p in processes)
    answered = sum(result["statuses"].values())
    web_cpu = result["cpu"].get("web process", 0.0)
    shares = cpu_shares(result)
    return [
        Row("load", f"{label}: memory (PSS, all processes)", sum(p.pss_mb for p in processes), "MB",
            note=f"RSS/PSS MB: {parts}"),
        Row("load", f"{label}: web processes' CPU per answered request", web_cpu / answered * 1000, "ms",
            note=f"CPU in {result['seconds']:.0f} s: {shares}"),
    ]  # fmt: skip


def _rows(label: str, result: dict, baseline: dict | None = None) -> list[Row]:
    """The figures of one setup; with `baseline` (the one-process run), each compared with it."""
    rows = []
    statuses: Counter = result["statuses"]
    compared = " (1 web process)" if baseline else ""
    for operation, expected in (("list", 200), ("create", 201)):
        values = result["latencies"][operation]
        unexpected = {code: n for (op, code), n in statuses.items() if op == operation and code != expected}
        note = f"{len(values):,} requests" + (f"; other answers: {unexpected}" if unexpected else "")
        rate, p50, p99 = len(values) / result["seconds"], percentile(values, 0.5), percentile(values, 0.99)
        if baseline:
            base_values = baseline["latencies"][operation]
            base_rate, base_p50 = len(base_values) / baseline["seconds"], percentile(base_values, 0.5)
            base_p99 = percentile(base_values, 0.99)
            rows += [
                Row("load", f"{label}: {operation} requests/s", rate, "/s", base_rate, compared.strip(" ()"),
                    note=note),
                Row("load", f"{label}: {operation} p50 latency", p50, "ms", base_p50, compared.strip(" ()"),
                    target=f"≤ {P50_TARGET:g}×", met=p50 <= P50_TARGET * base_p50),
                Row("load", f"{label}: {operation} p99 latency", p99, "ms", base_p99, compared.strip(" ()")),
            ]  # fmt: skip
            continue
        rows += [
            Row("load", f"{label}: {operation} requests/s", rate, "/s", note=note),
            Row("load", f"{label}: {operation} p50 latency", p50, "ms"),
            Row("load", f"{label}: {operation} p99 latency", p99, "ms"),
        ]
    fives = sum(n for (_, code), n in statuses.items() if code >= 500)
    errors = result["transport_errors"]
    rows += [
        Row("load", f"{label}: 5xx answers", fives, "", target="0", met=fives == 0,
            note=f"no answer at all: {dict(errors)}" if errors else ""),
        Row("load", f'{label}: "{LOCKED}" in server output', result["locked"], "", target="0",
            met=result["locked"] == 0, note=f"{result['server_errors_logged']} ERROR / CRITICAL lines logged"),
        Row("load", f"{label}: messages delivered to the sink meanwhile", result["delivered"], ""),
    ]  # fmt: skip
    rows += _integrity_rows(label, result)
    if result.get("processes"):
        rows += _process_rows(label, result)
    return rows


def _integrity_rows(label: str, result: dict) -> list[Row]:
    """Nothing lost (each 201 is a stored broadcast, and nothing was stored unanswered), nothing twice."""
    created = sum(n for (op, code), n in result["statuses"].items() if op == "create" and code == 201)
    stored = result["broadcasts"]
    twice = result["duplicate_messages"]
    return [
        Row("load", f"{label}: broadcasts stored / created (201)", stored, "", target=f"= {created:,}",
            met=stored == created, note=f"{created:,} answered 201"),
        Row("load", f"{label}: messages stored twice (one broadcast, one contact)", twice, "", target="0",
            met=twice == 0, note=f"{result['messages']:,} messages stored, {result['handed_over']:,} handed over"),
    ]  # fmt: skip


# Steps run in child processes (bench.child) ---------------------------------------------------------------------


def setup(sink_url: str) -> dict:
    """The API benchmark's data (broadcasts, a group, a token) and an external channel to the sink."""
    from herald.msgs.models import Broadcast
    from herald.workspaces.models import Workspace

    from . import api, data

    prepared = api.setup()
    data.make_external_channel(Workspace.objects.get(), "Sink", f"{sink_url}/load")
    return {"token": prepared["token"], "post_body": prepared["post_body"], "broadcasts": Broadcast.objects.count()}


def stored(before: int) -> dict:
    """After the run: the broadcasts the clients created (`before` were there already), every broadcast's messages,
    and any contact that got one broadcast twice."""
    from django.db.models import Count

    from herald.msgs.models import Broadcast, Msg, MsgStatus

    created = Broadcast.objects.count() - before
    messages = Msg.objects.filter(direction="O", broadcast__isnull=False)
    twice = messages.values("broadcast_id", "contact_id").annotate(n=Count("id")).filter(n__gt=1).count()
    out = [MsgStatus.WIRED, MsgStatus.SENT, MsgStatus.DELIVERED, MsgStatus.READ]
    return {
        "broadcasts": created,
        "messages": messages.count(),
        "duplicate_messages": twice,
        "handed_over": messages.filter(status__in=out).count(),
    }


def main(argv=None) -> int:
    from .report import text_table

    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--setups", default=",".join(SETUPS), help="comma-separated, among: " + ", ".join(SETUPS))
    args = parser.parse_args(argv)
    began = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - began:6.1f} s] {message}", file=sys.stderr, flush=True)

    setups = [name.strip() for name in args.setups.split(",") if name.strip()]
    rows = run(False, log, seconds=args.seconds, clients=args.clients, setups=setups)
    print(text_table(rows))
    return 0 if all(row.met is not False and row.value is not None for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
