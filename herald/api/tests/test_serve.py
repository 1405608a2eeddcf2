"""`herald serve` as a person runs it: a real process, real HTTP on 127.0.0.1, then a clean stop."""

import json

from herald.api.tests.serve_process import Server, get_when_up
from herald.testing.processes import free_port


def test_serve_bootstraps_a_demo_and_answers_over_http(tmp_path):
    port = free_port()
    data_dir = tmp_path / "data"
    server = Server(data_dir, port)
    try:
        info = server.first_json_line()
        assert info["created"] is True
        assert info["url"] == f"http://127.0.0.1:{port}/"
        assert len(info["token"]) == 40
        assert info["token"] in info["curl"]
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
        assert again["created"] is False
        assert again["token"] is None
        with get_when_up(f"http://127.0.0.1:{port}/api/v2/workspace.json", info["token"]) as response:
            assert json.load(response)["uuid"] == info["workspace"]
    finally:
        assert server.stop() == 0
