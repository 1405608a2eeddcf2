"""`herald workspace create` and `herald token create`."""

import json
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from herald.conftest import token_client
from herald.workspaces.models import APIToken, Membership, Role, Workspace

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_workspace_create_prints_the_uuid_of_the_new_workspace():
    printed = run(
        "workspace", "create", "--name", "Acme", "--country", "rw", "--languages", "eng, spa,eng", "--anonymous"
    )
    workspace = Workspace.objects.get()
    assert printed == str(workspace.uuid)
    assert (workspace.name, workspace.country, workspace.languages) == ("Acme", "RW", ["eng", "spa"])
    assert workspace.is_anonymous and workspace.api_rates == {}


def test_workspace_create_defaults():
    run("workspace", "create", "--name", "Acme")
    workspace = Workspace.objects.get()
    assert (workspace.country, workspace.languages, workspace.is_anonymous) == ("", ["eng"], False)


def test_workspace_create_json():
    printed = run("workspace", "create", "--name", "Acme", "--country", "US", "--api-rate", "v2=20/minute", "--json")
    workspace = Workspace.objects.get()
    assert json.loads(printed) == {
        "uuid": str(workspace.uuid),
        "name": "Acme",
        "country": "US",
        "languages": ["eng"],
        "anon": False,
        "api_rates": {"v2": "20/minute"},
        "media_quota_bytes": None,
    }


def test_api_rates_may_be_given_together_or_repeated():
    run("workspace", "create", "--name", "A", "--api-rate", "v2=20/minute", "v2.contacts=5/s", "--api-rate", "v2=9/h")
    assert Workspace.objects.get().api_rates == {"v2": "9/h", "v2.contacts": "5/s"}


def test_api_rate_is_what_the_throttle_enforces():
    workspace_uuid = run("workspace", "create", "--name", "Acme", "--api-rate", "v2=1/minute")
    client = token_client(run("token", "create", "--workspace", workspace_uuid, "--email", "bob@example.com"))
    assert client.get("/api/v2/workspace.json").status_code == 200
    assert client.get("/api/v2/workspace.json").status_code == 429


@pytest.mark.parametrize(
    "args, message",
    [
        (["--name", " "], "A workspace needs a name."),
        (["--name", "x" * 129], "Workspace names have at most 128 characters."),
        (["--name", "A", "--country", "XX"], "Unknown country 'XX'"),
        (["--name", "A", "--country", "RWA"], "Unknown country 'RWA'"),
        (["--name", "A", "--languages", "eng,xyz"], "Unknown language 'xyz'"),
        (["--name", "A", "--languages", "english"], "Unknown language 'english'"),
        (["--name", "A", "--api-rate", "v3=1/m"], "Bad API rate 'v3=1/m': write SCOPE=RATE"),
        (["--name", "A", "--api-rate", "20/minute"], "Bad API rate '20/minute': write SCOPE=RATE"),
        (["--name", "A", "--api-rate", "v2=abc"], "Bad API rate 'abc' for v2"),
        (["--name", "A", "--api-rate", "v2=20"], "Bad API rate '20' for v2"),
        (["--name", "A", "--api-rate", "v2=20/fortnight"], "Bad API rate '20/fortnight' for v2"),
        (["--name", "A", "--api-rate", "v2=0/minute"], "Bad API rate '0/minute' for v2"),
        (["--name", "A", "--api-rate", "v2=-5/minute"], "Bad API rate '-5/minute' for v2"),
        (["--name", "A", "--api-rate", "v2=1/2/m"], "Bad API rate '1/2/m' for v2"),
        (["--name", "A", "--media-quota", "-1"], "The media quota is a number of bytes (0 for no limit), not '-1'."),
        (["--name", "A", "--media-quota", "1GB"], "The media quota is a number of bytes (0 for no limit), not '1GB'."),
        (["--name", "A", "--media-quota", str(2**63)], "The media quota is a number of bytes"),
        ([], "the following arguments are required: --name"),
    ],
)
def test_workspace_create_refuses_bad_input_clearly(args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run("workspace", "create", *args)
    assert not Workspace.objects.exists()


@pytest.mark.parametrize("quota", ["5000", "0"])
def test_media_quota_override_is_kept_and_printed(quota):
    printed = run("workspace", "create", "--name", "Acme", "--media-quota", quota, "--json")
    assert json.loads(printed)["media_quota_bytes"] == int(quota)
    assert Workspace.objects.get().media_quota_bytes == int(quota)


def test_workspace_needs_an_action():
    with pytest.raises(CommandError, match="required: ACTION"):
        run("workspace")


@pytest.fixture
def workspace_uuid():
    return run("workspace", "create", "--name", "Acme")


def test_token_create_makes_an_admin_and_prints_a_working_key(workspace_uuid):
    key = run("token", "create", "--workspace", workspace_uuid, "--email", "ana@example.com")
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    membership = Membership.objects.get(user__email="ana@example.com")
    assert membership.role == Role.ADMINISTRATOR and str(membership.workspace.uuid) == workspace_uuid
    # Only the hash is kept.
    assert not APIToken.objects.filter(key_hash=key).exists()

    response = token_client(key).get("/api/v2/workspace.json")
    assert response.status_code == 200
    assert response.json()["uuid"] == workspace_uuid


def test_token_create_with_role_for_a_new_member(workspace_uuid):
    run("token", "create", "--workspace", workspace_uuid, "--email", "ed@example.com", "--role", "editor")
    assert Membership.objects.get(user__email="ed@example.com").role == Role.EDITOR


def test_token_create_keeps_or_changes_an_existing_members_role(workspace_uuid):
    first = run("token", "create", "--workspace", workspace_uuid, "--email", "ag@example.com", "--role", "agent")
    second = run("token", "create", "--workspace", workspace_uuid, "--email", "ag@example.com")
    assert Membership.objects.get(user__email="ag@example.com").role == Role.AGENT
    run("token", "create", "--workspace", workspace_uuid, "--email", "ag@example.com", "--role", "editor")
    assert Membership.objects.get(user__email="ag@example.com").role == Role.EDITOR

    assert get_user_model().objects.filter(email="ag@example.com").count() == 1
    assert first != second
    for key in (first, second):
        assert token_client(key).get("/api/v2/workspace.json").status_code == 200


def test_token_create_json(workspace_uuid):
    printed = json.loads(
        run("token", "create", "--workspace", workspace_uuid, "--email", "ed@example.com", "--role", "editor", "--json")
    )
    assert set(printed) == {"token", "workspace", "email", "role"}
    assert (printed["workspace"], printed["email"], printed["role"]) == (workspace_uuid, "ed@example.com", "editor")
    assert token_client(printed["token"]).get("/api/v2/workspace.json").status_code == 200


@pytest.mark.parametrize(
    "args, message",
    [
        (["--workspace", "not-a-uuid", "--email", "a@example.com"], "No workspace with UUID 'not-a-uuid'"),
        (
            ["--workspace", "00000000-0000-4000-8000-000000000000", "--email", "a@example.com"],
            "No workspace with UUID '00000000-0000-4000-8000-000000000000'",
        ),
        (["--email", "a@example.com"], "the following arguments are required: --workspace"),
    ],
)
def test_token_create_needs_an_existing_workspace(args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run("token", "create", *args)
    assert not APIToken.objects.exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--email", "not an email"], "Not an e-mail address: 'not an email'."),
        (["--email", "a@example.com", "--role", "owner"], "argument --role: invalid choice: 'owner'"),
    ],
)
def test_token_create_refuses_bad_input_clearly(workspace_uuid, extra, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run("token", "create", "--workspace", workspace_uuid, *extra)
    assert not APIToken.objects.exists() and not get_user_model().objects.exists()
