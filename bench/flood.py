"""Inbound flood: incoming messages handed to `herald serve`'s external receive URL as fast as a loopback gateway
gets them accepted, while a broadcast to a group of RECIPIENTS sends through the same channel.

Twice in the same run, each on a fresh database: `herald serve --web-processes 1` (the baseline) and its default,
a web process per core. Each callback carries a provider id, half come from the group's numbers and half from
numbers Herald has never seen, and every tenth is sent twice at once (a gateway's retry). The client is not paced:
the rate is Herald's ceiling (the test, herald/msgs/tests/test_inbound_flood.py, offers 200/s and asserts no speed).

Figures per setup: callbacks accepted per second, p50 / p99 latency, 5xx answers and "database is locked" in the
server's output (both must be 0), messages stored (one per provider id, none twice), and the broadcast's messages
handed over to the sink meanwhile.

Not a test: `python -m bench --only flood`.
"""

import threading
import time
from collections import Counter

import httpx

from herald.runtime.web import cores
from herald.testing.processes import free_port, herald_command

from .harness import BenchError, Row, background, child_env, database, percentile, run_child, wait_for_port
from .load import LOCKED, cpu_shares, cpu_used, server_processes
from .sink import RunningSink

SECONDS, QUICK_SECONDS = 30, 10
CLIENTS = 32  # callbacks in flight at once, as a gateway's worker pool
RECIPIENTS = 1000
RETRY_EVERY = 10
LABEL = "embedded (serve, SQLite)"


def run(quick: bool, log, seconds: float | None = None) -> list[Row]:
    seconds = seconds or (QUICK_SECONDS if quick else SECONDS)
    log(f"flood: 1 web process, {CLIENTS} callbacks at a time for {seconds:g} s")
    one = run_setup(seconds, web_processes=1)
    log(f"flood: a web process per core ({cores()}), {CLIENTS} callbacks at a time for {seconds:g} s")
    every = run_setup(seconds)
    return _rows(f"{LABEL}, 1 web process", one) + _rows(f"{LABEL}, {cores()} web processes (default)", every, one)


def run_setup(seconds: float, web_processes: int | None = None) -> dict:
    with RunningSink() as sink, database("sqlite") as db:
        setup = run_child("bench.flood:setup", db, sink_url=sink.url)
        log_path = db.data_dir / "serve.log"
        port = free_port()
        options = [] if web_processes is None else ["--web-processes", str(web_processes)]
        with background(herald_command("serve", "--port", str(port), *options), child_env(db), log_path) as server:
            wait_for_port(port, server, log_path)
            base = f"http://127.0.0.1:{port}"
            answer = httpx.post(
                f"{base}/api/v2/broadcasts.json",
                json={"text": "Reply YES or NO", "groups": [setup["group"]]},
                headers={"Authorization": f"Token {setup['token']}"},
                timeout=60,
            )
            if answer.status_code != 201:
                raise BenchError(f"the broadcast was refused: {answer.status_code} {answer.text[:200]}")
            before = server_processes(server.pid)
            result = flood(base + setup["receive_path"], seconds)
            after = server_processes(server.pid)
            result["cpu"], result["cpu_wait"] = cpu_used(before, after), cpu_used(before, after, waited=True)
        result.update(run_child("bench.flood:stored", db))
        result["locked"] = log_path.read_text(errors="replace").count(LOCKED)
        result["delivered"] = len(sink.times("/flood"))
        return result


def sender(n: int) -> str:
    """Odd callbacks from the group's numbers (bench.data's), even ones from numbers Herald doesn't know."""
    if n % 2:
        return f"+2507{(n // 2) % RECIPIENTS + 1:08d}"
    return f"+25072{(n // 2) % 200:07d}"


def flood(url: str, seconds: float) -> dict:
    """CLIENTS threads, each handing over the next callback (and every RETRY_EVERY-th twice) until `seconds` pass."""
    lock = threading.Lock()
    numbers = iter(range(10**9))
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors: Counter = Counter()
    deadline = time.monotonic() + seconds

    def post(client: httpx.Client, n: int) -> None:
        body = {"from": sender(n), "text": f"Answer {n}", "id": f"flood-{n}"}
        started = time.perf_counter()
        try:
            answer = client.post(url, data=body, timeout=60)
        except httpx.TransportError as exc:
            with lock:
                errors[type(exc).__name__] += 1
            return
        with lock:
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[answer.status_code] += 1

    def gateway() -> None:
        with httpx.Client() as client:
            while time.monotonic() < deadline:
                with lock:
                    n = next(numbers)
                post(client, n)
                if n % RETRY_EVERY == 0:
                    post(client, n)  # the same id again

    started = time.perf_counter()
    threads = [threading.Thread(target=gateway) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if not latencies:
        raise BenchError(f"no callback got an answer: {dict(errors)}")
    sent = next(numbers)
    return {"seconds": elapsed, "latencies": latencies, "statuses": statuses, "errors": errors, "callbacks": sent}


def _rows(label: str, result: dict, baseline: dict | None = None) -> list[Row]:
    accepted = result["statuses"].get(200, 0)
    rate = accepted / result["seconds"]
    p50, p99 = percentile(result["latencies"], 0.5), percentile(result["latencies"], 0.99)
    compare = {}
    if baseline:
        compare = {"baseline_label": "1 web process"}
    others = {code: n for code, n in result["statuses"].items() if code != 200}
    fives = sum(n for code, n in others.items() if code >= 500)
    ids, stored, twice = result["callbacks"], result["stored"], result["stored_twice"]
    note = f"{accepted:,} answered 200" + (f"; other answers: {others}" if others else "")
    note += f"; no answer: {dict(result['errors'])}" if result["errors"] else ""
    base = (lambda key: key(baseline)) if baseline else (lambda key: None)
    answered = max(1, sum(result["statuses"].values()))
    web_cpu = result["cpu"].get("web process", 0.0)
    shares = cpu_shares(result)
    return [
        Row("flood", f"{label}: callbacks accepted/s", rate, "/s",
            base(lambda b: b["statuses"].get(200, 0) / b["seconds"]), **compare, note=note),
        Row("flood", f"{label}: p50 latency", p50, "ms", base(lambda b: percentile(b["latencies"], 0.5)), **compare),
        Row("flood", f"{label}: p99 latency", p99, "ms", base(lambda b: percentile(b["latencies"], 0.99)), **compare),
        Row("flood", f"{label}: 5xx answers", fives, "", target="0", met=fives == 0),
        Row("flood", f'{label}: "{LOCKED}" in server output', result["locked"], "", target="0",
            met=result["locked"] == 0),
        Row("flood", f"{label}: incoming messages stored", stored, "", target=f"= {ids:,} ids",
            met=stored == ids and not result["errors"], note=f"{ids:,} provider ids sent, every {RETRY_EVERY}th twice"),
        Row("flood", f"{label}: stored twice (one provider id)", twice, "", target="0", met=twice == 0),
        Row("flood", f"{label}: broadcast messages handed over meanwhile", result["delivered"], "",
            note=f"of {RECIPIENTS:,}"),
        Row("flood", f"{label}: web processes' CPU per answered callback", web_cpu / answered * 1000, "ms",
            note=f"CPU in {result['seconds']:.0f} s: {shares}"),
    ]  # fmt: skip


# Steps run in child processes (bench.child) ---------------------------------------------------------------------


def setup(sink_url: str) -> dict:
    """A workspace with a token, an external channel to the sink, and a group of RECIPIENTS."""
    from herald.workspaces.provisioning import create_token

    from . import data

    data.migrate()
    workspace = data.make_workspace()
    _, token = create_token(workspace, "bench@example.com", "admin")
    channel = data.make_external_channel(workspace, "Gateway", f"{sink_url}/flood")
    group = data.make_group(workspace, RECIPIENTS)
    return {
        "token": token,
        "group": str(group.uuid),
        "receive_path": f"/c/ex/{channel.uuid}/{channel.callback_secret}/receive",
    }


def stored() -> dict:
    from django.db.models import Count

    from herald.msgs.models import Msg

    incoming = Msg.objects.filter(direction="I")
    twice = incoming.values("channel_id", "external_id").annotate(n=Count("id")).filter(n__gt=1).count()
    return {"stored": incoming.count(), "stored_twice": twice}
