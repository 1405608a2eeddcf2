"""Parallel uploads against a real `herald serve` can't take a workspace past its media quota, and DELETE frees it.

On the embedded configuration the server keeps its own SQLite file; when this test runs on PostgreSQL the server is
pointed at the test database (flushed afterwards), so the race is run on the configuration under test.
"""

import json
import threading
import urllib.error
import urllib.request

import pytest
from django.db import connection

from herald.media.tests import samples
from herald.testing.processes import free_port, herald_env, postgres_url, run_herald

from .serve_process import Server, get_when_up

PARALLEL = 8
FILE = samples.MP3 + b"\x00" * (256 * 1024)
# Room for three files and a half: exactly three of the parallel uploads fit.
QUOTA = 3 * len(FILE) + len(FILE) // 2


def configuration_under_test() -> dict:
    """HERALD_* settings that put the server on this test run's database (none on SQLite: the server's own file)."""
    if connection.vendor != "postgresql":
        return {}
    return {"HERALD_DATABASE_URL": postgres_url(connection.settings_dict)}


def herald(data_dir, env: dict, *args) -> str:
    done = run_herald(*args, env=herald_env(data_dir, **env))
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def request(method: str, url: str, token: str, body: bytes | None = None, content_type: str | None = None):
    headers = {"Authorization": f"Token {token}"}
    if content_type:
        headers["Content-Type"] = content_type
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers, method=method), timeout=60) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def server(tmp_path, transactional_db):
    env = configuration_under_test()
    server = Server(tmp_path / "data", free_port(), **env)
    info = server.first_json_line()
    server.env, server.data_dir, server.url = env, tmp_path / "data", info["url"]
    yield server
    server.stop()


def test_parallel_uploads_stop_at_the_quota_and_delete_frees_it(server):
    cli = server.data_dir, server.env
    created = json.loads(herald(*cli, "workspace", "create", "--name", "Race", "--media-quota", str(QUOTA), "--json"))
    token = herald(*cli, "token", "create", "--workspace", created["uuid"], "--email", "race@example.com")
    get_when_up(f"{server.url}api/v2/workspace.json", token)
    media_url = f"{server.url}api/v2/media.json"
    body, content_type = samples.multipart("song.mp3", FILE, "audio/mpeg")

    start = threading.Barrier(PARALLEL)
    answers = []

    def upload():
        start.wait()
        answers.append(request("POST", media_url, token, body, content_type))

    threads = [threading.Thread(target=upload) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] * 3 + [413] * (PARALLEL - 3), answers
    stored = [p for p in (server.data_dir / "media" / created["uuid"]).rglob("*") if p.is_file()]
    assert len(stored) == 3  # refused uploads left no file behind

    kept = json.loads(next(answer for status, answer in answers if status == 201))
    assert request("DELETE", f"{media_url}?uuid={kept['uuid']}", token)[0] == 204
    assert request("GET", kept["url"], token)[0] == 404
    assert request("POST", media_url, token, body, content_type)[0] == 201
    assert request("POST", media_url, token, body, content_type)[0] == 413
