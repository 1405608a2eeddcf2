"""`workspace.json`, re-expressing temba/api/v2/tests/test_workspace.py::WorkspaceEndpointTest::test_endpoint: the
fields in RapidPro's order, the real IANA timezone, the deprecated `credits`, and who may read it."""

import pytest
from django.core.management import call_command
from temba_client.v2 import TembaClient

from herald.testing.factories import create_user_token
from herald.workspaces.provisioning import create_workspace

URL = "/api/v2/workspace.json"


@pytest.fixture
def nyaruka(db):
    # RapidPro's test org: Rwanda, so its zone is Kigali's without being told.
    return create_workspace("Nyaruka", country="RW", languages=["eng", "kin"])


def expected(workspace, languages: list[str]) -> dict:
    return {
        "uuid": str(workspace.uuid),
        "name": "Nyaruka",
        "country": "RW",
        "languages": languages,
        "timezone": "Africa/Kigali",
        "date_style": "day_first",
        "anon": False,
        "credits": {"used": -1, "remaining": -1},
        "primary_language": languages[0],
        "send_window": None,  # Herald's, after RapidPro's fields (docs/COMPATIBILITY.md, C50)
    }


def test_reads_the_workspace_in_rapidpros_order_with_its_timezone_and_credits(nyaruka, make_client):
    for role in ("admin", "editor"):
        response = make_client(nyaruka, role).get(URL)
        assert response.status_code == 200
        # Compared as a list of items: the order of the fields is part of the answer.
        assert list(response.json().items()) == list(expected(nyaruka, ["eng", "kin"]).items())

    nyaruka.languages = ["kin"]
    nyaruka.save()
    assert make_client(nyaruka, "admin").get(URL).json() == expected(nyaruka, ["kin"])


def test_anonymous_callers_and_agents_are_refused_and_other_methods_are_405(nyaruka, make_client, anon):
    # RapidPro lets agents read it with a session; with a token (all Herald has) they get nothing: see test_auth.py.
    assert anon.get(URL).status_code == 403
    assert make_client(nyaruka, "agent").get(URL).status_code == 403
    admin = make_client(nyaruka, "admin")
    for method in (admin.post, admin.put, admin.delete):
        response = method(URL, {}, format="json")
        assert response.status_code == 405


def test_a_timezone_set_with_the_cli_is_what_the_api_and_the_official_client_say(live_server, nyaruka):
    call_command("workspace", "update", "--workspace", str(nyaruka.uuid), "--timezone", "america/new_york")
    _, key = create_user_token(nyaruka, "editor")
    org = TembaClient(live_server.url, key).get_org()
    assert (org.timezone, org.country, org.languages) == ("America/New_York", "RW", ["eng", "kin"])


def test_shows_its_default_send_window_in_its_own_zone_unless_it_names_one(nyaruka, make_client):
    client = make_client(nyaruka, "admin")
    update = ("workspace", "update", "--workspace", str(nyaruka.uuid))
    call_command(*update, "--send-window", "mon-fri 08:00-20:00")
    days = ["mon", "tue", "wed", "thu", "fri"]
    window = {"days": days, "start": "08:00", "end": "20:00", "timezone": "Africa/Kigali"}
    assert list(client.get(URL).json().items()) == list(
        {**expected(nyaruka, ["eng", "kin"]), "send_window": window}.items()
    )
    # It follows the workspace's timezone, until it names its own.
    call_command(*update, "--timezone", "Europe/Paris")
    assert client.get(URL).json()["send_window"] == {**window, "timezone": "Europe/Paris"}
    call_command(*update, "--send-window", "sat 22:00-02:00:30 America/New_York")
    assert client.get(URL).json()["send_window"] == {
        "days": ["sat"],
        "start": "22:00",
        "end": "02:00:30",
        "timezone": "America/New_York",
    }
