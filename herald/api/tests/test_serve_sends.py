"""`herald serve` really sends: the broadcast its start-up curl command posts comes out of the demo's console
channel, printed by the worker child; stopping the server stops that worker too."""

import json
import time
import urllib.request

from herald.api.tests.serve_process import (
    LINE_LIMIT_SECONDS,
    STOP_LIMIT_SECONDS,
    Server,
    curl_request,
    get_when_up,
    is_console_line_for,
)
from herald.testing.processes import command_line, free_port, is_running


def send_and_time(server: Server, request: urllib.request.Request, urn: str, text: str) -> float:
    """POST, then wait for the console line; the seconds in between."""
    posted_at = time.monotonic()
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        assert json.load(response)["urns"] == [urn]
    found = server.wait_for_line(is_console_line_for(urn, text), LINE_LIMIT_SECONDS)
    assert found, f"no console line within {LINE_LIMIT_SECONDS} s; stdout:\n{''.join(server.stdout)}"
    return found[1] - posted_at


def test_the_demo_curl_broadcast_is_printed_by_the_console_channel(tmp_path):
    server = Server(tmp_path / "data", free_port())
    try:
        info = server.first_json_line()
        request = curl_request(info["curl"])
        body = json.loads(request.data)
        (urn,) = body["urns"]
        text = body["text"]["eng"]  # the new contact has no language: the workspace's primary one is used
        get_when_up(info["url"] + "api/v2/workspace.json", info["token"]).close()

        # The first send also waits for the worker to finish starting; the second shows the steady state.
        first = send_and_time(server, request, urn, text)
        second = send_and_time(server, request, urn, text)
        print(f"\nherald serve, POST → console line: {first * 1000:.0f} ms first, {second * 1000:.0f} ms warm")

        workers = [pid for pid in server.child_pids() if "worker" in command_line(pid)]
        assert len(workers) == 1, [command_line(pid) for pid in server.child_pids()]
    finally:
        exit_code = server.stop()

    assert exit_code == 0
    # The server waits for its worker before it exits; allow a moment in case the worker was only re-parented.
    deadline = time.monotonic() + STOP_LIMIT_SECONDS
    while is_running(workers[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not is_running(workers[0])
