"""Data at rest is private: whatever Herald writes in its data dir (database, WAL, queue files, media, secret key,
the tick's schedule) is readable by its own user only, even when the operator's shell lets others read new files."""

import contextlib
import json
import os
import stat
import time
import urllib.request
from pathlib import Path

from herald.api.tests.serve_process import (
    LINE_LIMIT_SECONDS,
    Server,
    curl_request,
    get_when_up,
    is_console_line_for,
    upload_media,
)
from herald.testing.processes import free_port, herald_env, run_herald

# The harness's own file in the data dir (the test process writes it), not Herald's.
HARNESS_FILES = {"serve.stderr"}


@contextlib.contextmanager
def operator_umask(mask: int = 0o022):
    """The usual login shell's umask (new files readable by everyone), inherited by the processes started here."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def modes_under(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        if path.name not in HARNESS_FILES:
            found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def too_open(root: Path) -> dict[str, str]:
    return {
        name: f"{mode:04o}"
        for name, mode in modes_under(root).items()
        if mode != (0o700 if (root / name).is_dir() else 0o600)
    }


def test_a_fresh_data_dir_is_private_from_the_first_command(tmp_path):
    data_dir = tmp_path / "new" / "data"
    with operator_umask():
        done = run_herald("migrate", "-v0", env=herald_env(data_dir), timeout=300)
    assert done.returncode == 0, done.stderr

    assert {"herald.sqlite3", "secret_key"} <= set(modes_under(data_dir))
    assert too_open(data_dir) == {}
    assert "open to other users" not in done.stderr  # it was made private, not fixed afterwards


def test_everything_herald_serve_writes_is_private(tmp_path):
    data_dir = tmp_path / "data"
    with operator_umask():
        server = Server(data_dir, free_port())  # the harness makes the data dir first: 0755, as by hand
    try:
        info = server.first_json_line()
        get_when_up(info["url"] + "api/v2/workspace.json", info["token"]).close()
        upload_media(info["url"], info["token"])
        request = curl_request(info["curl"])
        body = json.loads(request.data)
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201
        assert server.wait_for_line(is_console_line_for(body["urns"][0], body["text"]["eng"]), LINE_LIMIT_SECONDS)
        deadline = time.monotonic() + LINE_LIMIT_SECONDS  # the worker's tick scheduler writes its schedule file
        while not list(data_dir.glob("celerybeat-schedule*")) and time.monotonic() < deadline:
            time.sleep(0.1)
        while_running = too_open(data_dir)  # the SQLite WAL and shared-memory files exist only now
    finally:
        assert server.stop() == 0

    assert while_running == {}

    written = set(modes_under(data_dir))
    assert {"herald.sqlite3", "secret_key", "media", "queue"} <= written
    assert any(name.startswith("celerybeat-schedule") for name in written), sorted(written)
    assert any(name.startswith("media/") and name.endswith("photo.jpg") for name in written), sorted(written)
    assert too_open(data_dir) == {}
    stderr = server.stderr_path.read_text()
    assert f"the data dir {data_dir} was open to other users (mode 0755); it is now 0700" in stderr
