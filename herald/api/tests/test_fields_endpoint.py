"""`/api/v2/fields.json`: the custom contact field keys."""

import pytest

from herald.contacts.models import ContactField
from herald.testing.fixtures import poster

URL = "/api/v2/fields.json"
post = poster(URL)


def item(key, name):
    return {
        "key": key,
        "name": name,
        "type": "text",
        "featured": False,
        "priority": 0,
        "usages": {"campaign_events": 0, "flows": 0, "groups": 0},
        "agent_access": "view",
        "label": name,
        "value_type": "text",
    }


def test_role_matrix(workspace, assert_roles):
    assert_roles(
        URL,
        # An agent's token is refused (APIToken.ALLOWED_ROLES, as RapidPro's): see test_auth.py.
        get={"anon": 403, "admin": 200, "editor": 200, "agent": 403},
        post={
            "anon": ({"name": "A", "type": "text"}, 403),
            "agent": ({"name": "A", "type": "text"}, 403),
            "editor": ({"name": "A", "type": "text"}, 201),
            "admin": ({"name": "B", "type": "text"}, 201),
        },
    )
    assert_roles(f"{URL}?key=a", delete={"admin": 405})


def test_create_derives_the_key_from_the_name(workspace, admin):
    response = post(admin, {"name": "Nick name", "type": "text"})
    assert response.status_code == 201
    assert response.json() == item("nick_name", "Nick name")
    assert ContactField.objects.get(workspace=workspace).key == "nick_name"

    assert post(admin, {"name": "Date of Birth (D/M/Y)", "type": "text"}).json()["key"] == "date_of_birth_d_m_y"
    long = post(admin, {"name": "A very long field name that goes on", "type": "text"}).json()
    assert long["key"] == "a_very_long_field_name_that_goes_on"
    assert len(long["key"]) <= 36


def test_list_newest_first_and_by_key(workspace, other_workspace, admin):
    post(admin, {"name": "Nickname", "type": "text"})
    post(admin, {"name": "Age", "type": "text"})
    ContactField.objects.create(workspace=other_workspace, key="secret", name="Secret")

    response = admin.get(URL)
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [item("age", "Age"), item("nickname", "Nickname")],
    }
    assert admin.get(f"{URL}?key=nickname").json()["results"] == [item("nickname", "Nickname")]
    assert admin.get(f"{URL}?key=secret").json()["results"] == []


# docs/COMPATIBILITY.md, C11: only text fields.
@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, {"name": ["This field is required."], "type": ["This field is required."]}),
        ({"name": "Age"}, {"type": ["This field is required."]}),
        ({"name": "Age", "type": "numeric"}, {"type": ['"numeric" is not a valid choice.']}),
        ({"name": "x" * 37, "type": "text"}, {"name": ["Ensure this field has no more than 36 characters."]}),
        ({"name": "123", "type": "text"}, {"name": ['Generated key "123" is invalid or a reserved name.']}),
        ({"name": "!!!", "type": "text"}, {"name": ['Generated key "" is invalid or a reserved name.']}),
        ({"name": "Language", "type": "text"}, {"name": ['Generated key "language" is invalid or a reserved name.']}),
    ],
)
def test_create_rejects(workspace, admin, data, errors):
    response = post(admin, data)
    assert response.status_code == 400
    assert response.json() == errors
    assert not ContactField.objects.exists()


def test_keys_and_names_are_unique(workspace, other_workspace, admin):
    ContactField.objects.create(workspace=other_workspace, key="nick_name", name="Nick name")
    assert post(admin, {"name": "Nick name", "type": "text"}).status_code == 201
    for duplicate in ("nick-name", "NICK NAME"):
        response = post(admin, {"name": duplicate, "type": "text"})
        assert response.status_code == 400
        assert response.json() == {"name": ["This field must be unique."]}


def test_rename_keeps_the_key(workspace, admin):
    post(admin, {"name": "Nick name", "type": "text"})
    post(admin, {"name": "Age", "type": "text"})
    response = post(admin, {"name": "Nickname", "type": "text"}, "?key=nick_name")
    assert response.status_code == 200
    assert response.json() == item("nick_name", "Nickname")
    assert post(admin, {"name": "age", "type": "text"}, "?key=nick_name").json() == {
        "name": ["This field must be unique."]
    }
    assert post(admin, {"name": "X", "type": "text"}, "?key=nothing").status_code == 404


def test_created_keys_are_accepted_by_contacts(admin):
    post(admin, {"name": "Nick name", "type": "text"})
    response = admin.post("/api/v2/contacts.json", {"fields": {"nick_name": "Jo"}}, format="json")
    assert response.status_code == 201
    assert response.json()["fields"] == {"nick_name": "Jo"}


def test_openapi_describes_the_endpoint(anon):
    path = anon.get("/api/v2/openapi.json").json()["paths"]["/api/v2/fields.json"]
    assert set(path) == {"get", "post"}
    assert set(path["post"]["responses"]) >= {"200", "201", "400", "409"}


def test_limit_per_workspace_is_409(workspace, other_workspace, admin):
    ContactField.objects.bulk_create(
        ContactField(workspace=workspace, key=f"f{i}", name=f"F{i}") for i in range(ContactField.MAX_PER_WORKSPACE)
    )
    response = post(admin, {"name": "One more", "type": "text"})
    assert response.status_code == 409
    assert response.json() == {"detail": "Cannot create object because workspace has reached limit."}
    assert not ContactField.objects.filter(key="one_more").exists()
    # Renaming is still allowed, and another workspace's fields don't count against this one's.
    assert post(admin, {"name": "Renamed", "type": "text"}, "?key=f0").status_code == 200
    ContactField.objects.filter(workspace=workspace, key="f1").update(workspace=other_workspace)
    assert post(admin, {"name": "One more", "type": "text"}).status_code == 201


@pytest.mark.parametrize("flag", ["is_flagged", "is_suspended"])
def test_flagged_or_suspended_workspace_may_still_create_and_rename_fields(workspace, admin, flag):
    # Only writes that send are blocked (broadcasts, media); managing fields sends nothing.
    setattr(workspace, flag, True)
    workspace.save()
    assert post(admin, {"name": "Nick name", "type": "text"}).status_code == 201
    assert post(admin, {"name": "Nickname", "type": "text"}, "?key=nick_name").status_code == 200
