"""`herald serve` as a person runs it: a real process, real HTTP on 127.0.0.1, then a clean stop."""

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

# Generous bounds for a slow machine: they end a hung test, they don't judge speed.
STARTUP_LIMIT_SECONDS = 120
STOP_LIMIT_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`herald serve --json` in a subprocess, its stdout read line by line on a thread."""

    def __init__(self, data_dir, port: int):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "DJANGO_"))}
        env["HERALD_DATA_DIR"] = str(data_dir)
        data_dir.mkdir(exist_ok=True)
        # A file, not a pipe: nobody reads stderr while the server runs, and a full pipe would block it.
        self.stderr_path = data_dir / "serve.stderr"
        with open(self.stderr_path, "w") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "herald.cli", "serve", "--port", str(port), "--json"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                start_new_session=True,
            )
        self.lines: queue.Queue = queue.Queue()
        self.stdout: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.stdout.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def first_json_line(self) -> dict:
        deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            if line.startswith("{"):
                return json.loads(line)
        self.stop()
        pytest.fail(f"herald serve printed no JSON line; stderr:\n{self.stderr_path.read_text()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=STOP_LIMIT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            code = self.process.wait()
        self.reader.join(timeout=STOP_LIMIT_SECONDS)  # everything it printed is in self.stdout
        return code


def get_when_up(url: str, token: str):
    """GET once the server listens (it prints its JSON line just before it starts listening)."""
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
    while True:
        try:
            return urllib.request.urlopen(request, timeout=30)
        except urllib.error.URLError as e:
            if not isinstance(e.reason, ConnectionRefusedError) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_serve_bootstraps_a_demo_and_answers_over_http(tmp_path):
    port = free_port()
    data_dir = tmp_path / "data"
    server = Server(data_dir, port)
    try:
        info = server.first_json_line()
        assert info["created"] is True
        assert info["url"] == f"http://127.0.0.1:{port}/"
        assert len(info["token"]) == 40 and info["token"] in info["curl"]
        assert info["email"] == "admin@example.com"

        with get_when_up(f"http://127.0.0.1:{port}/api/v2/workspace.json", info["token"]) as response:
            assert response.status == 200
            body = json.load(response)
        assert body["uuid"] == info["workspace"]
        assert (body["name"], body["languages"], body["country"]) == ("Demo", ["eng", "fra"], "RW")
    finally:
        exit_code = server.stop()

    assert exit_code == 0
    # The request was logged to stdout, and everything lives in the data dir.
    assert any("GET /api/v2/workspace.json" in line for line in server.stdout)
    assert (data_dir / "herald.sqlite3").is_file()

    # A second start on the same data keeps the demo and its token, and shows no token again.
    server = Server(data_dir, port)
    try:
        again = server.first_json_line()
        assert again["created"] is False and again["token"] is None
        with get_when_up(f"http://127.0.0.1:{port}/api/v2/workspace.json", info["token"]) as response:
            assert json.load(response)["uuid"] == info["workspace"]
    finally:
        assert server.stop() == 0
