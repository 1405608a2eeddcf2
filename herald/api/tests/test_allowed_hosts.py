"""The Host header cannot choose the links Herald stores or returns (media URLs, `next` pages): only the names it
is configured for are answered, others get Django's 400, and `herald serve` / `herald web` allow their bind address.
Every request goes to 127.0.0.1; the names are only Host headers."""

import http.client
import json

import pytest
from django.core.management.base import CommandError

from herald.api.tests.serve_process import Server, get_when_up, upload_media
from herald.media.models import Media
from herald.media.tests import samples
from herald.runtime.web import prepare_bind
from herald.testing.processes import free_port

OTHER_HOST = "attacker.example"


def get_with_host(port: int, host: str, path: str, token: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": host, "Authorization": f"Token {token}"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_request_for_another_host_is_refused_and_stores_nothing(admin, workspace, media_root):
    assert admin.get("/api/v2/contacts.json", HTTP_HOST=OTHER_HOST).status_code == 400

    body, content_type = samples.multipart("photo.jpg", samples.JPEG, "image/jpeg")
    response = admin.post("/api/v2/media.json", data=body, content_type=content_type, HTTP_HOST=OTHER_HOST)
    assert response.status_code == 400
    assert not Media.objects.exists()

    for host in ("localhost", "127.0.0.1:8000", "[::1]:8000"):  # loopback names are allowed by default
        assert admin.get("/api/v2/contacts.json", HTTP_HOST=host).status_code == 200, host


def test_herald_serve_answers_its_base_url_host_and_refuses_others(tmp_path):
    port = free_port()
    server = Server(tmp_path / "data", port, HERALD_BASE_URL="https://herald.example.org")
    try:
        info = server.first_json_line()
        assert info["url"] == "https://herald.example.org/"
        get_when_up(f"http://127.0.0.1:{port}/api/v2/workspace.json", info["token"]).close()

        status, _ = get_with_host(port, OTHER_HOST, "/api/v2/workspace.json", info["token"])
        assert status == 400
        status, body = get_with_host(port, "herald.example.org", "/api/v2/workspace.json", info["token"])
        assert status == 200
        assert json.loads(body)["uuid"] == info["workspace"]
        media = upload_media(f"http://127.0.0.1:{port}/", info["token"])
        assert media["url"].startswith("https://herald.example.org/media/")  # HERALD_BASE_URL's, not the Host's
    finally:
        assert server.stop() == 0


@pytest.fixture
def default_hosts(settings):
    settings.ALLOWED_HOSTS_FROM_ENV = []
    settings.ALLOWED_HOSTS = list(settings.LOOPBACK_HOSTS)
    settings.BASE_URL = ""
    settings.DEBUG = False
    return settings


def test_the_bind_address_is_allowed(default_hosts):
    # Names only: nothing listens or connects here.
    prepare_bind("192.0.2.7")
    prepare_bind("2001:db8::7")
    assert default_hosts.ALLOWED_HOSTS == ["localhost", "127.0.0.1", "[::1]", "192.0.2.7", "[2001:db8::7]"]


def test_a_wildcard_bind_allows_no_more_and_says_what_to_set(default_hosts, capsys):
    prepare_bind("0.0.0.0")
    assert default_hosts.ALLOWED_HOSTS == ["localhost", "127.0.0.1", "[::1]"]
    assert "set HERALD_BASE_URL (or HERALD_ALLOWED_HOSTS)" in capsys.readouterr().err


def test_hosts_set_by_the_operator_are_kept_as_they_are(default_hosts):
    default_hosts.ALLOWED_HOSTS_FROM_ENV = default_hosts.ALLOWED_HOSTS = ["herald.example.org"]
    prepare_bind("192.0.2.7")
    assert default_hosts.ALLOWED_HOSTS == ["herald.example.org"]


def test_debug_is_refused_on_a_non_loopback_bind(default_hosts):
    default_hosts.DEBUG = True
    for host in ("0.0.0.0", "::", "192.0.2.7"):
        with pytest.raises(CommandError, match="HERALD_DEBUG=1"):
            prepare_bind(host)
    for host in ("127.0.0.1", "::1", "localhost"):
        prepare_bind(host)
