"""API: `GET /api/v2/broadcasts.json` (a full 250-item page) and `POST /api/v2/broadcasts.json`, over real HTTP.

The server is `herald web` (gunicorn, as in production) on 127.0.0.1, started with the bench URLconf, which adds
`/bench/bare/broadcasts.json`: a bare DRF endpoint answering the same JSON from memory (`bench/bare.py`). Both are
hit by the same client (threads, one keep-alive httpx client each), 1 and 16 at a time, a fixed number of
requests each. Each broadcast has a few messages in different statuses (so its `counts` are read from
rows). SQL queries per request are counted in-process with `CaptureQueriesContext`; a 10-item page is
counted too, to check that a page costs the same number of queries whatever it holds. On the embedded default
(SQLite); the API rate limit is raised so the throttle runs but never refuses.
"""

import json
import threading
import time
from datetime import timedelta

import httpx

from .harness import BenchError, Row, child_env, database, herald_server, in_threads, percentile, run_child

BROADCASTS = 300
PAGE = 250
SETTINGS = {"DJANGO_SETTINGS_MODULE": "bench.settings"}
# Requests per (endpoint, concurrency): enough for a stable p99, few enough to stay in a minute or two.
COUNTS = {("GET", 1): 100, ("GET", 16): 320, ("POST", 1): 200, ("POST", 16): 480}
QUICK_COUNTS = {("GET", 1): 20, ("GET", 16): 64, ("POST", 1): 40, ("POST", 16): 96}


def run(quick: bool, log) -> list[Row]:
    counts = QUICK_COUNTS if quick else COUNTS
    rows = []
    with database("sqlite") as db:
        setup = run_child("bench.api:setup", db, env=SETTINGS)
        log_path = db.data_dir / "web.log"
        with herald_server("web", child_env(db, **SETTINGS), log_path) as base:
            targets = {
                "GET": (f"{base}/api/v2/broadcasts.json", None),
                "POST": (f"{base}/api/v2/broadcasts.json", setup["post_body"]),
            }
            bare_url = f"{base}/bench/bare/broadcasts.json"
            headers = {"Authorization": f"Token {setup['token']}"}
            for (method, concurrency), count in counts.items():
                url, body = targets[method]
                log(f"api: {method} x{count}, {concurrency} at a time")
                herald = load(method, url, body, headers, concurrency, count)
                bare = load(method, bare_url, body, {}, concurrency, count)
                rows += _rows(method, concurrency, herald, bare)
    queries = setup["queries"]
    rows += [
        Row(
            "api",
            f"GET {PAGE}-item page: SQL queries",
            queries["page"],
            "",
            0,
            "bare endpoint",
            f"constant (10-item page: {queries['small_page']})",
            queries["page"] == queries["small_page"],
        ),
        Row("api", "POST create: SQL queries", queries["post"], "", 0, "bare endpoint"),
    ]
    return rows


def _rows(method: str, concurrency: int, herald: dict, bare: dict) -> list[Row]:
    name = f"GET {PAGE}-item page" if method == "GET" else "POST create"
    prefix = f"{name}, {concurrency} client{'s' if concurrency > 1 else ''}"
    note = f"{herald['errors']} errors" if herald["errors"] else ""
    return [
        Row("api", f"{prefix}: requests/s", herald["rps"], "/s", bare["rps"], "bare endpoint", note=note),
        Row("api", f"{prefix}: p50 latency", herald["p50"], "ms", bare["p50"], "bare endpoint"),
        Row("api", f"{prefix}: p99 latency", herald["p99"], "ms", bare["p99"], "bare endpoint"),
    ]


def load(method: str, url: str, body: dict | None, headers: dict, concurrency: int, count: int) -> dict:
    """`count` requests from `concurrency` threads; requests/s over the whole run, latency percentiles in ms."""
    remaining = iter(range(count))
    lock = threading.Lock()
    latencies: list[float] = []
    errors = []

    def client_loop():
        with httpx.Client(headers=headers, timeout=60) as client:
            client.request(method, url, json=body)  # open the connection: not counted
            while True:
                with lock:
                    if next(remaining, None) is None:
                        return
                started = time.perf_counter()
                response = client.request(method, url, json=body)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed * 1000)
                    if response.status_code >= 300:
                        errors.append(response.status_code)

    seconds = in_threads(client_loop, concurrency)
    if len(errors) == count:
        raise BenchError(f"every {method} {url} failed, e.g. HTTP {errors[0]}")
    return {
        "rps": count / seconds,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "errors": len(errors),
    }


# Steps run in child processes (bench.child) ---------------------------------------------------------------------


def setup() -> dict:
    """Broadcasts as the API stores them (each to URNs, contacts and a group), a token, the bare endpoint's JSON,
    and the SQL queries each request makes."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from rest_framework.test import APIClient

    from herald.contacts.models import Contact
    from herald.msgs.models import Broadcast, BroadcastStatus
    from herald.msgs.msg_rows import NewMessage, insert_messages
    from herald.workspaces.provisioning import create_token

    from . import data
    from .bare import RESPONSES_FILE

    data.migrate()
    workspace = data.make_workspace()
    _, token = create_token(workspace, "bench@example.com", "admin")
    group = data.make_group(workspace, 50, "Customers")
    contacts = list(Contact.objects.filter(workspace=workspace).order_by("id"))
    now = timezone.now()
    broadcasts = Broadcast.objects.bulk_create(
        Broadcast(
            workspace=workspace,
            status=BroadcastStatus.COMPLETED,
            translations={"eng": {"text": f"Hello @contact.name, reminder {n}"}, "fra": {"text": f"Bonjour {n}"}},
            base_language="eng",
            urns=[f"tel:+25078800{n:04d}", f"tel:+25078801{n:04d}"],
            contact_count=53,
            msg_count=53,
            created_on=now - timedelta(minutes=n),
        )
        for n in range(BROADCASTS)
    )
    contact_links = Broadcast.contacts.through
    group_links = Broadcast.groups.through
    contact_links.objects.bulk_create(
        contact_links(broadcast_id=b.id, contact_id=contacts[(i + k) % len(contacts)].id)
        for i, b in enumerate(broadcasts)
        for k in range(2)
    )
    group_links.objects.bulk_create(group_links(broadcast_id=b.id, contactgroup_id=group.id) for b in broadcasts)
    # A few messages per broadcast in different statuses, so each broadcast's `counts` has rows to read.
    outcomes = [("W", None), ("D", None), ("F", "P"), ("E", None)]
    for b in broadcasts:
        messages = [
            NewMessage(contacts[k].id, None, None, "Hi", [], [], "eng", status, reason, 1)
            for k, (status, reason) in enumerate(outcomes)
        ]
        insert_messages(messages, workspace_id=workspace.id, broadcast_id=b.id, created_on=now, modified_on=now)

    client = APIClient(HTTP_HOST="localhost")  # a name Herald answers to (its default allowed hosts)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    url = "/api/v2/broadcasts.json"
    post_body = {
        "urns": ["tel:+250788123123"],
        "groups": [str(group.uuid)],
        "text": {"eng": "Hello @contact.name!", "fra": "Bonjour @contact.name !"},
    }
    client.get(url)  # warm-up: first-request work (content types, caches) is not per-request cost

    def counted(method, *args, **kwargs):
        with CaptureQueriesContext(connection) as queries:
            response = method(*args, **kwargs)
        if response.status_code >= 300:
            raise RuntimeError(f"{response.status_code}: {response.content[:300]}")
        return response.json(), len(queries)

    page, page_queries = counted(client.get, url)
    after = page["results"][9]["created_on"]
    small, small_queries = counted(client.get, url, {"after": after})
    created, post_queries = counted(client.post, url, post_body, format="json")
    sizes = (len(page["results"]), len(small["results"]))
    assert sizes[0] == PAGE, sizes
    assert sizes[1] == 10, sizes
    (settings.DATA_DIR / RESPONSES_FILE).write_text(json.dumps({"list": page, "create": created}))
    return {
        "token": token,
        "post_body": post_body,
        "queries": {"page": page_queries, "small_page": small_queries, "post": post_queries},
    }
