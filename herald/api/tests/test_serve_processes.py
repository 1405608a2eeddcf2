"""`herald serve --web-processes N`: N web processes answering on one port, sharing the database, the queue (a
broadcast posted to any of them wakes the worker) and the API's rate limits; one SIGTERM stops them all.

Which process answers a new connection is the kernel's choice; to aim at one, the test pauses the others (SIGSTOP):
a paused process accepts nothing, so the one left running takes the connection.
"""

import contextlib
import json
import os
import signal
import time
import urllib.error
import urllib.request

from herald.api.tests.serve_process import (
    LINE_LIMIT_SECONDS,
    STARTUP_LIMIT_SECONDS,
    STOP_LIMIT_SECONDS,
    Server,
    get_when_up,
    is_console_line_for,
)
from herald.testing.processes import command_line, free_port, herald_env, run_herald

RATE = 4  # API requests a minute per workspace: two through each web process use it up
URN = "tel:+250788123123"


def web_processes(server: Server, count: int) -> list[int]:
    """The server's `count` web processes, once it has started them all (gunicorn forks one after another)."""
    deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
    while True:
        found = [pid for pid in server.child_pids() if "serve" in command_line(pid)]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@contextlib.contextmanager
def only(answering: int, every: list[int]):
    """Only `answering` of the web processes takes connections while the block runs."""
    paused = [pid for pid in every if pid != answering]
    for pid in paused:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in paused:
            os.kill(pid, signal.SIGCONT)


def call(url: str, token: str, body: dict | None = None) -> tuple[int, str]:
    """GET (or POST `body` as JSON) on a new connection; the status and the body."""
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_web_processes_share_the_port_the_queue_and_the_rate_limit(tmp_path):
    server = Server(
        tmp_path / "data", free_port(), ("--web-processes", "2"), HERALD_API_RATE=f"{RATE}/minute", HERALD_METRICS="1"
    )
    try:
        info = server.first_json_line()
        base, token = info["url"], info["token"]
        get_when_up(base + "health", token).close()  # not rate-limited
        web = web_processes(server, 2)
        assert len(web) == 2, [command_line(pid) for pid in server.child_pids()]
        assert len([pid for pid in server.child_pids() if "worker" in command_line(pid)]) == 1

        for n, answering in enumerate(web):
            text = f"Hello from web process {n}"
            with only(answering, web):
                assert call(base + "api/v2/workspace.json", token)[0] == 200
                status, answer = call(base + "api/v2/broadcasts.json", token, {"urns": [URN], "text": text})
                assert status == 201, answer
                assert call(base + "health", token)[0] == 200
                status, metrics = call(base + "metrics", token)
                assert status == 200
                assert "herald_" in metrics, metrics[:300]
            # The worker is a process of its own: the broadcast came to it through the queue.
            found = server.wait_for_line(is_console_line_for(URN, text), LINE_LIMIT_SECONDS)
            assert found, f"no console line for {text!r}; stdout:\n{''.join(server.stdout)}"

        # RATE requests in all, half through each process: the budget is spent for both (kept per process, each
        # would still allow RATE / 2 more).
        for answering in web:
            with only(answering, web):
                status, answer = call(base + "api/v2/workspace.json", token)
                assert status == 429, answer
                assert "throttled" in json.loads(answer)["detail"]
    finally:
        exit_code = server.stop()

    assert exit_code == 0
    # Every web process and the worker (with its pools) stop with the server: nothing of its group is left.
    deadline = time.monotonic() + STOP_LIMIT_SECONDS
    while server.child.group_alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not server.child.group_alive()


def test_web_processes_must_be_at_least_one(tmp_path):
    done = run_herald("serve", "--web-processes", "0", env=herald_env(tmp_path / "data"))
    assert done.returncode != 0
    assert "--web-processes must be 1 or more, not 0." in done.stderr
