"""`globals.json`, re-expressing temba/api/v2/tests/test_globals.py::GlobalsEndpointTest::test_endpoint: the list
(most recently modified first; `key`, `before`, `after`), creating with a name and a value, changing the value by
`?key=`, RapidPro's error messages and limit, admins and editors only; and what it writes is what `@globals.KEY`
says in a broadcast."""

from datetime import timedelta

import pytest
from django.utils import timezone
from temba_client.v2 import TembaClient
from temba_client.v2.types import Global as ClientGlobal

from herald.api.v2.formats import format_datetime
from herald.msgs.models import Msg
from herald.testing.factories import create_user_token, make_contact
from herald.testing.fixtures import post_broadcast, poster, results
from herald.testing.gateway import gateway_channel
from herald.workspaces.models import Global

URL = "/api/v2/globals.json"
post = poster(URL)


def shown(item: Global) -> dict:
    item.refresh_from_db()
    return {"key": item.key, "name": item.name, "value": item.value, "modified_on": format_datetime(item.modified_on)}


def make_global(workspace, key: str, name: str, value: str, modified_ago: int = 0) -> Global:
    return Global.objects.create(
        workspace=workspace,
        key=key,
        name=name,
        value=value,
        modified_on=timezone.now() - timedelta(minutes=modified_ago),
    )


@pytest.fixture
def globals_(workspace, other_workspace):
    org_name = make_global(workspace, "org_name", "Org Name", "Acme Ltd", modified_ago=10)
    access_token = make_global(workspace, "access_token", "Access Token", "23464373", modified_ago=5)
    make_global(other_workspace, "thingy", "Thingy", "xyz")
    return org_name, access_token


def test_roles(assert_roles):
    assert_roles(
        URL,
        get={"anon": 403, "agent": 403, "editor": 200, "admin": 200},
        post={"anon": ({"name": "A", "value": "1"}, 403), "agent": ({"name": "A", "value": "1"}, 403)},
        delete={"admin": 405},
    )
    assert not Global.objects.exists()


def test_lists_most_recently_modified_first_and_filters(globals_, admin, editor, make_client, other_workspace):
    org_name, access_token = globals_
    for client in (admin, editor):
        assert results(client.get(URL)) == [shown(access_token), shown(org_name)]
    assert results(admin.get(URL, {"reverse": "true"})) == [shown(org_name), shown(access_token)]
    assert results(make_client(other_workspace).get(URL)) == [
        {
            "key": "thingy",
            "name": "Thingy",
            "value": "xyz",
            "modified_on": shown(other_workspace.globals.get())["modified_on"],
        }
    ]
    assert results(admin.get(URL, {"key": "org_name"})) == [shown(org_name)]
    assert results(admin.get(URL, {"key": "thingy"})) == []
    moment = format_datetime(org_name.modified_on)
    assert results(admin.get(URL, {"before": moment})) == [shown(org_name)]
    assert results(admin.get(URL, {"after": moment})) == [shown(access_token), shown(org_name)]
    response = admin.get(URL, {"after": "yesterday"})
    assert response.status_code == 400


def test_a_post_with_key_changes_the_value_and_moves_it_first(globals_, admin):
    org_name, access_token = globals_
    before = org_name.modified_on
    response = post(admin, {"value": "Acme LLC"}, "?key=org_name")
    assert (response.status_code, response.json()) == (200, shown(org_name))
    assert (org_name.value, org_name.name, org_name.key) == ("Acme LLC", "Org Name", "org_name")
    assert org_name.modified_on > before
    assert results(admin.get(URL)) == [shown(org_name), shown(access_token)]


def test_a_name_with_key_renames_and_keeps_the_key(globals_, admin):
    # RapidPro validates the name, then ignores it on an update (docs/COMPATIBILITY.md, C36).
    org_name, _ = globals_
    response = post(admin, {"name": "Company", "value": "Acme"}, "?key=org_name")
    assert (response.status_code, response.json()["key"], response.json()["name"]) == (200, "org_name", "Company")
    response = post(admin, {"name": "access token", "value": "Acme"}, "?key=org_name")
    assert (response.status_code, response.json()) == (400, {"name": ["This field must be unique."]})
    assert shown(org_name)["name"] == "Company"


def test_creates_with_a_name_and_a_value(globals_, admin):
    response = post(admin, {"name": "New Global", "value": "23464373"})
    created = Global.objects.get(key="new_global")
    assert (response.status_code, response.json()) == (201, shown(created))
    assert response.json() == {
        "key": "new_global",
        "name": "New Global",
        "value": "23464373",
        "modified_on": format_datetime(created.modified_on),
    }


@pytest.mark.parametrize(
    ("body", "query", "status", "errors"),
    [
        ({"value": "yes"}, "", 400, {"non_field_errors": ["Name is required when creating new global."]}),
        (
            {"name": "!!!#$%^"},
            "",
            400,
            {"name": ["Name contains illegal characters."], "value": ["This field is required."]},
        ),
        ({"name": "2cool key", "value": "23464373"}, "", 400, {"name": ["Name creates Key that is invalid"]}),
        ({"name": "___", "value": "1"}, "", 400, {"name": ["Name creates Key that is invalid"]}),
        (
            {"name": "x" * 37},
            "",
            400,
            {"name": ["Ensure this field has no more than 36 characters."], "value": ["This field is required."]},
        ),
        ({"name": "ORG NAME", "value": "1"}, "", 400, {"name": ["This field must be unique."]}),
        # Another name that makes a taken key: RapidPro would quietly change that global's value instead.
        ({"name": "Org-Name", "value": "1"}, "", 400, {"name": ["This field must be unique."]}),
        (
            {"name": "Big", "value": "x" * 10_001},
            "",
            400,
            {"value": ["Ensure this field has no more than 10000 characters."]},
        ),
        ({"name": "Blank", "value": ""}, "", 400, {"value": ["This field may not be blank."]}),
        (
            {"name": ["A"], "value": {"b": 1}},
            "",
            400,
            {"name": ["Not a valid string."], "value": ["Not a valid string."]},
        ),
        ({}, "?key=org_name", 400, {"value": ["This field is required."]}),
        ({"value": "1"}, "?key=thingy", 404, {"detail": "Not found."}),
        ({"value": "1"}, "?key=nope", 404, {"detail": "Not found."}),
        (["value"], "", 400, {"non_field_errors": ["Request body should be a single JSON object"]}),
    ],
)
def test_bad_input_is_refused_with_rapidpros_messages_and_writes_nothing(globals_, admin, body, query, status, errors):
    before = sorted((g.workspace_id, g.key, g.name, g.value, g.modified_on) for g in Global.objects.all())
    response = post(admin, body, query)
    assert (response.status_code, response.json()) == (status, errors)
    assert sorted((g.workspace_id, g.key, g.name, g.value, g.modified_on) for g in Global.objects.all()) == before


def test_one_past_the_limit_is_a_409_and_changing_one_still_works(workspace, admin):
    Global.objects.bulk_create(
        Global(workspace=workspace, key=f"g{i}", name=f"G{i}", value="v") for i in range(Global.MAX_PER_WORKSPACE)
    )
    response = post(admin, {"name": "Website URL", "value": "http://example.com"})
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "Cannot create object because workspace has reached limit."},
    )
    assert Global.objects.count() == Global.MAX_PER_WORKSPACE
    assert post(admin, {"value": "w"}, "?key=g0").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_tasks")
def test_a_broadcast_says_what_the_api_wrote(workspace, admin, gateway):
    gateway_channel(workspace, gateway.url)
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"])
    assert post(admin, {"name": "Org Name", "value": "Acme Ltd"}).status_code == 201

    post_broadcast(admin, {"contacts": [str(ann.uuid)], "text": "Hi from @globals.org_name"})
    assert post(admin, {"value": "Acme LLC"}, "?key=org_name").status_code == 200
    post_broadcast(admin, {"contacts": [str(ann.uuid)], "text": "Now @globals.org_name (@globals.unknown)"})

    assert [r.json["text"] for r in gateway.requests] == ["Hi from Acme Ltd", "Now Acme LLC ()"]
    assert sorted(Msg.objects.values_list("text", flat=True)) == ["Hi from Acme Ltd", "Now Acme LLC ()"]


def test_the_official_client_lists_creates_and_updates(live_server, workspace, other_workspace):
    make_global(other_workspace, "thingy", "Thingy", "xyz")
    _, key = create_user_token(workspace, "editor")
    temba = TembaClient(live_server.url, key)

    created = temba.create_global("Org Name", "Acme Ltd")
    assert isinstance(created, ClientGlobal)
    assert (created.key, created.name, created.value) == ("org_name", "Org Name", "Acme Ltd")
    updated = temba.update_global(created, "Acme LLC")
    assert (updated.key, updated.value) == ("org_name", "Acme LLC")
    assert updated.modified_on >= created.modified_on
    temba.create_global("Access Token", "23464373")

    listed = temba.get_globals().all()
    assert [(g.key, g.value) for g in listed] == [("access_token", "23464373"), ("org_name", "Acme LLC")]
    assert [(g.key, g.name) for g in temba.get_globals(key="org_name").all()] == [("org_name", "Org Name")]
