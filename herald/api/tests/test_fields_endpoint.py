"""`/api/v2/fields.json`: the custom contact fields, their names, keys and types.

Re-expresses `temba/api/v2/tests/test_fields.py::FieldsEndpointTest::test_endpoint` (RapidPro): the listing with
`type` and the deprecated `label` / `value_type`, every validation message word for word (the deprecated names' under
their own keys), creating and retyping by key, and the workspace limit's 409."""

import pytest

from herald.contacts.models import ContactField
from herald.testing.fixtures import poster

URL = "/api/v2/fields.json"
post = poster(URL)


def item(key, name, value_type="text"):
    return {
        "key": key,
        "name": name,
        "type": value_type,
        "featured": False,
        "priority": 0,
        "usages": {"campaign_events": 0, "flows": 0, "groups": 0},
        "agent_access": "view",
        "label": name,
        "value_type": "numeric" if value_type == "number" else value_type,
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

    assert post(admin, {"name": "Date of Birth - DMY", "type": "text"}).json()["key"] == "date_of_birth_dmy"
    long = post(admin, {"name": "A very long field name that goes on", "type": "text"}).json()
    assert long["key"] == "a_very_long_field_name_that_goes_on"
    assert len(long["key"]) <= 36


@pytest.mark.parametrize(
    ("value_type", "listed"),
    [("text", "text"), ("number", "numeric"), ("datetime", "datetime"), ("state", "state"),
     ("district", "district"), ("ward", "ward")],
)  # fmt: skip
def test_each_type_is_stored_and_listed_with_its_deprecated_name(workspace, admin, value_type, listed):
    response = post(admin, {"name": "Where", "type": value_type})
    assert response.status_code == 201
    assert response.json()["type"] == value_type
    assert response.json()["value_type"] == listed
    assert ContactField.objects.get(workspace=workspace, key="where").value_type == value_type
    assert admin.get(URL).json()["results"] == [item("where", "Where", value_type)]


def test_only_rapidpros_reserved_keys_are_refused(workspace, admin):
    # RapidPro reserves has, is, fields, urns, created_on and last_seen_on; a key like `language` or `tel` is fine
    # (templates read it as @fields.language, apart from @contact.language).
    for name in ("Language", "Name", "Tel"):
        assert post(admin, {"name": name, "type": "text"}).status_code == 201
    assert [field["key"] for field in admin.get(URL).json()["results"]] == ["tel", "name", "language"]


def test_deprecated_label_and_value_type_create_a_field(workspace, admin):
    response = post(admin, {"label": "Age", "value_type": "numeric"})
    assert response.status_code == 201
    assert response.json() == item("age", "Age", "number")
    assert ContactField.objects.get(workspace=workspace, key="age").value_type == "number"


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


# RapidPro's messages, word for word (its "hypens" too).
NAME_MESSAGE = "Can only contain letters, numbers and hypens."


def reserved(key):
    return f'Generated key "{key}" is invalid or a reserved name.'


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, {"non_field_errors": ["Field 'name' is required."]}),
        ({"name": "goats"}, {"non_field_errors": ["Field 'type' is required."]}),
        ({"value_type": "text"}, {"non_field_errors": ["Field 'name' is required."]}),
        ({"label": "goats"}, {"non_field_errors": ["Field 'type' is required."]}),
        ({"name": "!@#$%", "type": "video"}, {"name": [NAME_MESSAGE], "type": ['"video" is not a valid choice.']}),
        (
            {"label": "!@#$%", "value_type": "video"},
            {"label": [NAME_MESSAGE], "value_type": ['"video" is not a valid choice.']},
        ),
        # `numeric` is the deprecated name only; `number` the current one only.
        ({"name": "Age", "type": "numeric"}, {"type": ['"numeric" is not a valid choice.']}),
        ({"label": "Age", "value_type": "number"}, {"value_type": ['"number" is not a valid choice.']}),
        ({"name": "HAS", "type": "text"}, {"name": ['Generated key "has" is invalid or a reserved name.']}),
        ({"name": "x" * 37, "type": "text"}, {"name": ["Ensure this field has no more than 36 characters."]}),
        ({"name": "123", "type": "text"}, {"name": ['Generated key "123" is invalid or a reserved name.']}),
        ({"name": "Date (D/M/Y)", "type": "text"}, {"name": [NAME_MESSAGE]}),
        ({"name": "Fields", "type": "text"}, {"name": [reserved("fields")]}),
        ({"name": "Created On", "type": "text"}, {"name": [reserved("created_on")]}),
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
    # The deprecated name's error comes under its own key.
    response = post(admin, {"label": "nick name", "value_type": "text"})
    assert response.json() == {"label": ["This field must be unique."]}


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
    response = post(admin, {"label": "One more", "value_type": "numeric"})
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


def test_a_post_by_key_renames_and_retypes(workspace, admin):
    # RapidPro: `?key=age` with {"name": "Real Age", "type": "datetime"} changes both; its key stays.
    post(admin, {"name": "Age", "type": "number"})
    response = post(admin, {"name": "Real Age", "type": "datetime"}, "?key=age")
    assert response.status_code == 200
    assert response.json() == item("age", "Real Age", "datetime")
    field = ContactField.objects.get(workspace=workspace, key="age")
    assert (field.name, field.value_type) == ("Real Age", "datetime")
    assert post(admin, {"label": "Age", "value_type": "numeric"}, "?key=age").json() == item("age", "Age", "number")


def test_a_post_by_key_of_another_workspaces_field_is_404(workspace, other_workspace, admin):
    ContactField.objects.create(workspace=other_workspace, key="not_ours", name="Something Else")
    assert post(admin, {"name": "Something", "type": "text"}, "?key=not_ours").status_code == 404
    assert ContactField.objects.get(key="not_ours").name == "Something Else"


def make_contact_with(admin, fields):
    response = admin.post("/api/v2/contacts.json", {"fields": fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["uuid"]


def contact_fields_of(admin, uuid):
    return admin.get(f"/api/v2/contacts.json?uuid={uuid}").json()["results"][0]["fields"]


# docs/COMPATIBILITY.md, C30: a new type its values can't take is refused; the ones they can take normalise them.
def test_retyping_normalises_the_values_or_is_refused_when_one_doesnt_fit(workspace, admin):
    post(admin, {"name": "Score", "type": "text"})
    fine = make_contact_with(admin, {"score": "12.50"})
    odd = make_contact_with(admin, {"score": "lots"})

    response = post(admin, {"name": "Score", "type": "number"}, "?key=score")
    assert response.status_code == 400
    assert response.json() == {
        "type": ["Can't change the type of 'score' to number: 1 contact has a value that is not a number."]
    }
    assert ContactField.objects.get(key="score").value_type == "text"
    assert contact_fields_of(admin, fine) == {"score": "12.50"}  # nothing written

    response = post(admin, {"label": "Score", "value_type": "numeric"}, "?key=score")
    assert response.json() == {
        "value_type": ["Can't change the type of 'score' to number: 1 contact has a value that is not a number."]
    }

    admin.post(f"/api/v2/contacts.json?uuid={odd}", {"fields": {"score": "7"}}, format="json")
    assert post(admin, {"name": "Score", "type": "number"}, "?key=score").status_code == 200
    assert contact_fields_of(admin, fine) == {"score": "12.5"}
    assert contact_fields_of(admin, odd) == {"score": "7"}
    # Back to text keeps the values as they are now.
    assert post(admin, {"name": "Score", "type": "text"}, "?key=score").status_code == 200
    assert contact_fields_of(admin, fine) == {"score": "12.5"}
