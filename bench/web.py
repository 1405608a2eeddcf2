"""Web interface: each page's server time and SQL queries with big data (issue 16, "Fast with big data").

The database is seeded as a busy workspace looks (`seed`): contacts with a URN and fields, groups of 100,000 and
more, broadcasts of 1,000 to 1,000,000 messages in mixed statuses (the newest still sending, one paused, older ones
completed), the count rows Herald's triggers keep, incoming messages, progress samples and channel logs. Full size:
1,000,000 contacts, 1,000 broadcasts, 5,000,000 messages; `--quick`: 10,000 / 20 / 50,000. Rows are generated inside
the database (one INSERT ... SELECT per broadcast, in big transactions), the way bench/data.py makes contacts.

Then each page of `PAGES` is asked for REQUESTS times by Django's test client signed in through the sign-in form,
in-process, so the time is the server's alone (no network, no browser): p50 and p99, and the SQL queries of one
request (CaptureQueriesContext). Baseline, in the same run: a bare signed-in page (`bench.bare.bare_web_page`:
the same session, membership and base template, no data). A page that answers 404 (not built yet on this branch)
is skipped with a note. The SQL time of the timed requests is measured with an execute wrapper (which formats
nothing: next to no overhead), and the slowest statement, when it takes over SLOW_QUERY_MS (the best of three runs
again), is shown with its plan (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite): a page that misses
with little SQL spends its time in Python (views, templates).

Adding a page is one line in PAGES: a name and a function of the seeded objects giving its URL.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .harness import BenchError, Row, database, percentile, run_child

TARGET_MS = 300.0
REQUESTS = 20
SLOW_QUERY_MS = 20.0
SETTINGS = {"DJANGO_SETTINGS_MODULE": "bench.settings"}  # bench.urls: Herald's URLs and the bare page


@dataclass(frozen=True)
class Sizes:
    contacts: int
    broadcasts: int
    messages: int  # outgoing and incoming


FULL = Sizes(1_000_000, 1_000, 5_000_000)
QUICK = Sizes(10_000, 20, 50_000)


@dataclass(frozen=True)
class Page:
    name: str
    url: Callable[[dict], str]  # the seeded objects (`seed`'s "objects") -> the page's path
    htmx: bool = False  # asked as htmx asks (a fragment: a poll)
    signed_in: bool = True


# fmt: off
PAGES = (
    Page("bare signed-in page (baseline)", lambda o: "/bench/bare/web"),
    Page("sign-in form", lambda o: "/signin", signed_in=False),
    Page("broadcasts list", lambda o: "/broadcasts/"),
    Page("broadcasts list, a page deep down", lambda o: f"/broadcasts/?before={o['broadcasts_cursor']}"),
    Page("broadcasts list, poll", lambda o: "/broadcasts/", htmx=True),
    Page("broadcast, biggest (sending)", lambda o: f"/broadcasts/{o['biggest']}/"),
    Page("broadcast, biggest, messages deep down", lambda o: f"/broadcasts/{o['biggest']}/?before={o['msgs_cursor']}"),
    Page("broadcast, biggest, delivered", lambda o: f"/broadcasts/{o['biggest']}/?status=delivered"),
    Page("broadcast, biggest, failed", lambda o: f"/broadcasts/{o['biggest']}/?status=failed"),
    Page("broadcast, biggest, queued", lambda o: f"/broadcasts/{o['biggest']}/?status=queued"),
    Page("broadcast, biggest, read (none)", lambda o: f"/broadcasts/{o['biggest']}/?status=read"),
    Page("broadcast, biggest, errored (two codes)", lambda o: f"/broadcasts/{o['biggest']}/?status=errored"),
    Page("broadcast, biggest, progress poll", lambda o: f"/broadcasts/{o['biggest']}/progress", htmx=True),
    Page("broadcast, paused", lambda o: f"/broadcasts/{o['paused']}/"),
    Page("broadcast, smallest (completed)", lambda o: f"/broadcasts/{o['smallest']}/"),
    Page("message log", lambda o: f"/broadcasts/{o['biggest']}/messages/{o['logged_msg']}/log"),
    Page("compose", lambda o: "/compose/"),
    Page("compose, recipient search", lambda o: "/compose/recipients?q=Contact%201234"),
    Page("contacts", lambda o: "/contacts/"),
    Page("contacts, name search", lambda o: "/contacts/?q=Contact%20777"),
    Page("contacts, URN search", lambda o: f"/contacts/?q={o['urn_path']}"),
    Page("contact", lambda o: f"/contacts/{o['contact']}/"),
    Page("groups", lambda o: "/contacts/groups/"),
    Page("group, everyone", lambda o: f"/contacts/groups/{o['everyone']}/"),
    Page("channels", lambda o: "/channels/"),
    Page("channel", lambda o: f"/channels/{o['channel']}/"),
    Page("settings", lambda o: "/settings/"),
    Page("API tokens", lambda o: "/settings/tokens/"),
    Page("webhooks", lambda o: "/settings/webhooks/"),
)
# fmt: on
BASELINE = PAGES[0].name


def run(kinds: list[str], quick: bool, log) -> list[Row]:
    sizes = QUICK if quick else FULL
    rows: list[Row] = []
    for kind in kinds:
        label = f"{sizes.contacts:,} contacts, {sizes.broadcasts:,} broadcasts, {sizes.messages:,} messages"
        log(f"web: seeding {label} on {kind}")
        try:
            rows += measure(kind, sizes, log)
        except BenchError as exc:
            log(f"  failed: {exc}")
            rows.append(Row("web", f"{label}, {kind}", None, "ms", note=f"failed: {exc}".splitlines()[0]))
    return rows


def measure(kind: str, sizes: Sizes, log) -> list[Row]:
    with database(kind) as db:
        seeded = run_child("bench.web:seed", db, timeout=7200, env=SETTINGS, **sizes.__dict__)
        steps = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in seeded["steps"].items())
        log(f"  seeded {seeded['objects']['messages']:,} messages in {seeded['seconds']:.0f} s: {steps}")
        timed = run_child("bench.web:time_pages", db, env=SETTINGS, objects=seeded["objects"], requests=REQUESTS)
    return _rows(db.label, timed["pages"], log)


def _rows(label: str, pages: list[dict], log) -> list[Row]:
    bare = next(p for p in pages if p["name"] == BASELINE)
    rows = []
    for p in pages:
        figure = f"{p['name']}, {label}"
        if p.get("skipped"):
            log(f"  {p['name']}: skipped ({p['skipped']})")
            rows.append(Row("web", figure, None, "ms", note=f"skipped: {p['skipped']}"))
            continue
        met = p["p99"] < TARGET_MS
        note = f"p99 {p['p99']:.0f} ms; {p['queries']} queries, {p['sql_ms']:.0f} ms of SQL a request"
        rows.append(
            Row("web", f"{figure}: p50", p["p50"], "ms", bare["p50"], "bare page", f"< {TARGET_MS:.0f} ms", met, note)
        )
        slow = p["slowest"]
        if not met or slow["plan"]:
            log(f"  {p['name']}: p50 {p['p50']:.0f} ms, p99 {p['p99']:.0f} ms, {p['sql_ms']:.0f} ms of it SQL")
        if slow["plan"]:
            log(f"    slowest query {slow['ms']:.0f} ms: {slow['sql'][:600]}")
            for line in slow["plan"]:
                log(f"      {line}")
    return rows


# Run in child processes (bench.child) ---------------------------------------------------------------------------


def seed(contacts: int, broadcasts: int, messages: int) -> dict:
    from . import web_data

    started = time.perf_counter()
    steps, objects = web_data.seed(Sizes(contacts, broadcasts, messages))
    return {"seconds": time.perf_counter() - started, "steps": steps, "objects": objects}


class SQLTimer:
    """A connection's execute wrapper: the time of every statement of the timed requests, and the slowest one with
    its parameters (to EXPLAIN it). Unlike CaptureQueriesContext it formats nothing, so it adds next to no time."""

    def __init__(self) -> None:
        self.total = 0.0
        self.slowest: tuple[float, str, Any] = (0.0, "", None)

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seconds = time.perf_counter() - started
            self.total += seconds
            if seconds > self.slowest[0] and not many:
                self.slowest = (seconds, sql, params)


def time_pages(objects: dict, requests: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from .web_data import PASSWORD

    signed_in = Client(HTTP_HOST="localhost")  # a name Herald answers to (its default allowed hosts)
    answer = signed_in.post("/signin", {"email": objects["email"], "password": PASSWORD})
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in answered {answer.status_code}")
    signed_out = Client(HTTP_HOST="localhost")
    results = []
    for page in PAGES:
        client = signed_in if page.signed_in else signed_out
        url = page.url(objects)
        headers: dict[str, Any] = {"HTTP_HX_REQUEST": "true"} if page.htmx else {}
        with CaptureQueriesContext(connection) as queries:  # the first request: not timed, its queries counted
            first = client.get(url, **headers)
        query_count = len(queries.captured_queries)
        if first.status_code != 200:
            results.append({"name": page.name, "url": url, "skipped": f"{url} answered {first.status_code}"})
            continue
        times, timer = [], SQLTimer()
        with connection.execute_wrapper(timer):
            for _ in range(requests):
                started = time.perf_counter()
                client.get(url, **headers)
                times.append((time.perf_counter() - started) * 1000)
        p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
        slowest_ms, slowest_sql, slowest_params = timer.slowest[0] * 1000, timer.slowest[1], timer.slowest[2]
        results.append(
            {
                "name": page.name,
                "url": url,
                "p50": p50,
                "p99": p99,
                "queries": query_count,
                "sql_ms": timer.total * 1000 / requests,
                "slowest": {
                    "ms": slowest_ms,
                    "sql": slowest_sql,
                    "plan": _plan(slowest_sql, slowest_params) if _slow(slowest_sql, slowest_params) else [],
                },
            }
        )
    return {"pages": results}


def _slow(sql: str, params: Any) -> bool:
    """Whether the statement is slow when run again (the best of three): on a busy machine a one-row lookup can
    take 50 ms once, waiting for a core; that is not what a plan would explain."""
    from django.db import connection

    if not sql:
        return False
    best = float("inf")
    with connection.cursor() as cursor:
        for _ in range(3):
            started = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            best = min(best, time.perf_counter() - started)
    return best * 1000 >= SLOW_QUERY_MS


def _plan(sql: str, params: Any) -> list[str]:
    from django.db import connection

    explain = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    try:
        with connection.cursor() as cursor:
            cursor.execute(explain + sql, params)
            return [" ".join(str(cell) for cell in row) for row in cursor.fetchall()]
    except Exception as exc:  # a statement that can't be explained as it is: say so, keep the figures
        return [f"(no plan: {exc})"]
