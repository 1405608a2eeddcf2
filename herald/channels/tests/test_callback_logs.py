"""A callback URL's secret never reaches the logs of a real `herald serve`: neither the web server's access log
(stdout) nor Herald's own log (stderr), whether the report is taken or refused."""

import json
import urllib.error
import urllib.parse
import urllib.request

from herald.api.tests.serve_process import Server, get_when_up
from herald.testing.processes import free_port, herald_env, run_herald


def herald(data_dir, *args) -> str:
    done = run_herald(*args, env=herald_env(data_dir))
    assert done.returncode == 0, done.stderr
    return done.stdout


def status_of(url: str, body: dict | None = None) -> int:
    data = urllib.parse.urlencode(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_callback_secret_is_never_logged(tmp_path):
    data_dir = tmp_path / "data"
    server = Server(data_dir, free_port())
    try:
        info = server.first_json_line()
        get_when_up(info["url"] + "api/v2/workspace.json", info["token"]).close()
        channel = json.loads(
            herald(data_dir, "channel", "add", "--workspace", info["workspace"], "--type", "external",
                   "--name", "Gateway", "--config", "send_url=http://127.0.0.1:9/send", "--json")
        )  # fmt: skip
        delivered = info["url"].rstrip("/") + channel["callback_urls"]["delivered"]
        secret = delivered.split("/")[-2]

        assert status_of(delivered + "?id=not-a-uuid") == 400  # right secret, refused report
        assert status_of(delivered, {"id": "0199a1c2-0000-7000-8000-000000000000"}) == 400
        assert status_of(delivered.replace(secret, "x" * len(secret)) + "?id=x") == 403
        # The last request answered is in the access log: wait for it, so nothing is still unwritten.
        assert server.wait_for_line(lambda line: "x" * len(secret) not in line and " 403 " in line, timeout=30)
    finally:
        server.stop()

    printed = "".join(server.stdout) + server.stderr_path.read_text()
    assert f"/c/ex/{channel['uuid']}/<secret>/delivered" in printed
    assert secret not in printed
