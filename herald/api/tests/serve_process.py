"""`herald serve` in a real subprocess for tests: start it, read what it prints, call it over HTTP, stop it.

    server = Server(tmp_path / "data", free_port())
    info = server.first_json_line()                      # the `--json` start-up line
    get_when_up(f"{info['url']}api/v2/workspace.json", info["token"])
    line, seen_at = server.wait_for_line(lambda line: "[console:" in line, timeout=20)
    server.stop()                                        # SIGTERM, then the exit code

Nothing here talks to anything but 127.0.0.1.
"""

import json
import queue
import shlex
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from herald.media.tests import samples
from herald.testing.processes import STOP_LIMIT_SECONDS, Child, herald_command, herald_env

# Generous bounds for a slow machine: they end a hung test, they don't judge speed.
STARTUP_LIMIT_SECONDS = 120
# How long a sent broadcast may take to show up as the console channel's line.
LINE_LIMIT_SECONDS = 60


class Server:
    """`herald serve --json` in a subprocess, its stdout read line by line on a thread.

    The worker child inherits the server's stdout, so console-channel lines arrive here too.
    """

    def __init__(self, data_dir: Path, port: int, options: tuple[str, ...] = (), **settings: str):
        """`options`: more of `herald serve`'s own (e.g. ("--web-processes", "2")); `settings`: HERALD_* variables
        for the server and its worker (none of the test run's own are passed on)."""
        data_dir.mkdir(exist_ok=True)
        # A file, not a pipe: nobody reads stderr while the server runs, and a full pipe would block it.
        self.stderr_path = data_dir / "serve.stderr"
        command = herald_command("serve", "--port", str(port), "--json", *options)
        self.child = Child(command, herald_env(data_dir, **settings), self.stderr_path, pipe_stdout=True)
        self.process = self.child.popen
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
        """Processes the server started (its gunicorn worker, its sending worker)."""
        return self.child.children()

    def stop(self) -> int:
        """SIGTERM, then the exit code (the group is killed if it hangs)."""
        code = self.child.stop()
        self.reader.join(timeout=STOP_LIMIT_SECONDS)  # everything it printed is in self.stdout
        return code


def curl_request(curl: str) -> urllib.request.Request:
    """The request the printed `curl -sS -X POST URL -H ... -d BODY` command makes, for urllib."""
    args = [arg for arg in shlex.split(curl) if arg != "-sS"]  # -sS only quiets curl's progress meter
    assert args[:3] == ["curl", "-X", "POST"], curl
    headers, body = {}, None
    rest = iter(args[4:])
    for flag in rest:
        value = next(rest)
        if flag == "-H":
            name, _, header_value = value.partition(":")
            headers[name.strip()] = header_value.strip()
        elif flag == "-d":
            body = value.encode()
        else:
            raise AssertionError(f"unexpected curl flag {flag!r} in {curl}")
    return urllib.request.Request(args[3], data=body, headers=headers, method="POST")


def is_console_line_for(urn: str, text: str):
    return lambda line: line.startswith("[console:") and f"→ {urn}" in line and text in line


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
