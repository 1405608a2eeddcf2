"""`herald serve` in a real subprocess for tests: start it, read what it prints, call it over HTTP, stop it.

    server = Server(tmp_path / "data", free_port())
    info = server.first_json_line()                      # the `--json` start-up line
    get_when_up(f"{info['url']}api/v2/workspace.json", info["token"])
    line, seen_at = server.wait_for_line(lambda line: "[console:" in line, timeout=20)
    server.stop()                                        # SIGTERM, then the exit code

Nothing here talks to anything but 127.0.0.1.
"""

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
from pathlib import Path

import pytest

from herald.media.tests import samples

# Generous bounds for a slow machine: they end a hung test, they don't judge speed.
STARTUP_LIMIT_SECONDS = 120
STOP_LIMIT_SECONDS = 30


def herald_env(data_dir: Path) -> dict:
    """This process's environment without its HERALD_* / DJANGO_* settings, with HERALD_DATA_DIR=data_dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "DJANGO_"))}
    env["HERALD_DATA_DIR"] = str(data_dir)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`herald serve --json` in a subprocess, its stdout read line by line on a thread.

    The worker child inherits the server's stdout, so console-channel lines arrive here too.
    """

    def __init__(self, data_dir: Path, port: int, **settings: str):
        """`settings`: HERALD_* variables for the server and its worker (none of the test run's own are passed on)."""
        env = {**herald_env(data_dir), **settings}
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
        # (time.monotonic() when read, line); None once the output ends.
        self.lines: queue.Queue = queue.Queue()
        self.stdout: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.stdout.append(line)
            self.lines.put((time.monotonic(), line))
        self.lines.put(None)

    def wait_for_line(self, matches, timeout: float) -> tuple[str, float] | None:
        """The next line for which `matches(line)` is true and when it was read, or None after `timeout` seconds
        (or when the output ends). Lines skipped on the way are still in `self.stdout`."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = self.lines.get(timeout=min(left, 1))
            except queue.Empty:
                continue
            if item is None:
                self.lines.put(None)  # later waits end at once too
                return None
            seen_at, line = item
            if matches(line):
                return line, seen_at
        return None

    def first_json_line(self) -> dict:
        found = self.wait_for_line(lambda line: line.startswith("{"), STARTUP_LIMIT_SECONDS)
        if found is None:
            self.stop()
            pytest.fail(f"herald serve printed no JSON line; stderr:\n{self.stderr_path.read_text()}")
        return json.loads(found[0])

    def child_pids(self) -> list[int]:
        """Processes the server started (its gunicorn worker, its sending worker), from /proc (Linux)."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # "pid (name) state ppid ...": the name may hold spaces, so split after its closing parenthesis.
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # the process ended while we looked
            if int(fields[1]) == self.process.pid:
                children.append(int(stat.parent.name))
        return children

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


def command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def is_running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (an exited process nobody has reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


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


def upload_media(base_url: str, token: str, name: str = "photo.jpg") -> dict:
    """POST a small JPEG to media.json; its JSON answer."""

    body, content_type = samples.multipart(name, samples.JPEG, "image/jpeg")
    request = urllib.request.Request(
        base_url + "api/v2/media.json",
        data=body,
        headers={"Authorization": f"Token {token}", "Content-Type": content_type},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        return json.load(response)
