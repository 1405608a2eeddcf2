"""The demo workspace `herald serve` creates on an empty database, and the curl command it prints."""

import json
import shlex

import pytest
from django.test import Client

from herald.runtime.demo import broadcast_curl, create_demo_if_empty, demo_info
from herald.testing.fixtures import sign_in, token_client
from herald.workspaces.models import Membership, Role, Workspace

pytestmark = pytest.mark.django_db


def test_empty_database_gets_a_demo_workspace_with_an_admin_token():
    demo = create_demo_if_empty()
    workspace = Workspace.objects.get()
    assert demo.workspace == str(workspace.uuid)
    assert (workspace.name, workspace.languages, workspace.country) == ("Demo", ["eng", "fra"], "RW")
    membership = Membership.objects.get()
    assert (membership.user.email, membership.role) == ("admin@example.com", Role.ADMINISTRATOR)

    response = token_client(demo.token).get("/api/v2/workspace.json")
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["timezone"]) == ("Demo", "Africa/Kigali")


def test_nothing_is_created_once_a_workspace_exists(workspace):
    assert create_demo_if_empty() is None
    assert Workspace.objects.count() == 1


def test_curl_sends_a_broadcast_with_the_token():
    words = shlex.split(broadcast_curl("http://127.0.0.1:8000/", "abc123"))
    assert words[:5] == ["curl", "-sS", "-X", "POST", "http://127.0.0.1:8000/api/v2/broadcasts.json"]
    assert words[words.index("-H") + 1] == "Authorization: Token abc123"
    assert "Content-Type: application/json" in words
    body = json.loads(words[words.index("-d") + 1])
    assert body["urns"] == ["tel:+250788123123"]
    assert set(body["text"]) == {"eng", "fra"}


def test_info_for_a_first_and_a_later_start():
    demo = create_demo_if_empty()
    first = demo_info(demo, "http://127.0.0.1:8000/")
    assert first["created"] is True
    assert first["token"] == demo.token
    assert demo.token in first["curl"]
    assert first["docs"] == "http://127.0.0.1:8000/api/v2/"

    later = demo_info(None, "http://127.0.0.1:8000/")
    assert later["created"] is False
    assert later["token"] is None
    assert later["curl"] is None
    assert later["workspace"] is None


def test_the_demo_admin_signs_in_to_the_web_interface_with_the_printed_password():

    demo = create_demo_if_empty()
    assert demo_info(demo, "http://127.0.0.1:8000/")["password"] == demo.password
    assert demo_info(demo, "http://127.0.0.1:8000/")["sign_in"] == "http://127.0.0.1:8000/signin"
    assert demo_info(None, "http://127.0.0.1:8000/")["password"] is None
    assert sign_in(Client(), demo.email, demo.password).url == "/broadcasts/"
