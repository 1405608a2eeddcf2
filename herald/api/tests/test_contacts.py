"""`/api/v2/contacts.json`: listing, creating, updating and deleting contacts (RapidPro's
`ContactsEndpoint` in `temba/api/v2/views.py`; the differences are in docs/COMPATIBILITY.md).

Re-expresses `temba/api/v2/tests/test_contacts.py::ContactsEndpointTest` (`test_endpoint`, `test_anonymous_org`,
`test_expanded_urns_can_preserve_priority_order`, `test_prevent_null_chars`); each test below that comes from one
names it."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from herald.api.v2.formats import format_datetime
from herald.channels.models import Channel
from herald.contacts import urns, writes
from herald.contacts.models import Contact, ContactField, ContactGroup, ContactNote, ContactStatus, ContactURN
from herald.contacts.refs import ALPHABET, contact_ref
from herald.testing.factories import create_user_token
from herald.testing.fixtures import poster, results, uuids

URL = "/api/v2/contacts.json"
post = poster(URL)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def nickname(workspace):
    return ContactField.objects.create(workspace=workspace, key="nickname", name="Nickname")


@pytest.fixture
def gender(workspace):
    return ContactField.objects.create(workspace=workspace, key="gender", name="Gender")


@pytest.fixture
def customers(workspace):
    return ContactGroup.objects.create(workspace=workspace, name="Customers")


def contact(workspace, minutes=0, **changes):
    """A contact modified `minutes` after T0 (so tests control the list order); URNs are normalised."""
    if "urns" in changes:
        changes["urns"] = [urns.parse_and_normalize(u, workspace.country) for u in changes["urns"]]
    created = writes.create_contact(workspace, **changes)
    Contact.objects.filter(pk=created.pk).update(modified_on=T0 + timedelta(minutes=minutes))
    created.refresh_from_db()
    return created


# Access


def test_role_matrix(workspace, admin, assert_roles):
    assert_roles(
        URL,
        # An agent's token is refused (APIToken.ALLOWED_ROLES, as RapidPro's): see test_auth.py.
        get={"anon": 403, "admin": 200, "editor": 200, "agent": 403},
        post={"anon": ({}, 403), "admin": ({}, 201), "editor": ({}, 201), "agent": ({}, 403)},
    )
    target = contact(workspace)
    assert_roles(f"{URL}?uuid={target.uuid}", delete={"anon": 403, "agent": 403, "editor": 204})
    assert admin.put(URL, {}, format="json").status_code == 405


def test_throttled_in_its_own_scope(workspace, admin):
    workspace.api_rates = {"v2.contacts": "2/minute"}
    workspace.save()
    assert admin.get(URL).status_code == 200
    assert post(admin, {}).status_code == 201
    response = admin.get(URL)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    # Other endpoints have their own budget.
    assert admin.get("/api/v2/groups.json").status_code == 200


# Listing


def test_list_item_shape(workspace, admin, nickname, gender, customers):
    ann = contact(
        workspace,
        name="Ann",
        language="fra",
        urns=["tel:0788000001", "twitter:Ann"],
        fields={"nickname": "Annie"},
        groups=[customers],
    )
    Contact.objects.filter(pk=ann.pk).update(last_seen_on=datetime(2020, 8, 12, 13, 30, 45, 123456, tzinfo=UTC))
    ann.refresh_from_db()

    item = results(admin.get(URL))[0]
    assert item == {
        "uuid": str(ann.uuid),
        "name": "Ann",
        "status": "active",
        "language": "fra",
        "urns": ["tel:+250788000001", "twitter:ann"],
        "groups": [{"uuid": str(customers.uuid), "name": "Customers"}],
        "notes": [],
        "fields": {"nickname": "Annie", "gender": None},
        "flow": None,
        "created_on": format_datetime(ann.created_on),
        "modified_on": "2024-01-01T00:00:00.000000Z",
        "last_seen_on": "2020-08-12T13:30:45.123456Z",
        "blocked": False,
        "stopped": False,
        "status_changed_on": None,
        "status_reason": None,
    }
    assert list(item) == [
        "uuid", "name", "status", "language", "urns", "groups", "notes", "fields", "flow",
        "created_on", "modified_on", "last_seen_on", "blocked", "stopped",
        # Herald's, after RapidPro's (docs/COMPATIBILITY.md, C62).
        "status_changed_on", "status_reason",
    ]  # fmt: skip


def test_statuses_and_deprecated_booleans(workspace, admin):
    for status in ContactStatus:
        Contact.objects.filter(pk=contact(workspace, name=status.label).pk).update(status=status)
    items = {item["name"]: item for item in results(admin.get(URL))}
    assert {name: (i["status"], i["blocked"], i["stopped"]) for name, i in items.items()} == {
        "active": ("active", False, False),
        "blocked": ("blocked", True, False),
        "stopped": ("stopped", False, True),
        "archived": ("archived", False, False),
    }


def test_most_recently_modified_first_and_reverse(workspace, admin):
    a, b, c = contact(workspace, 1), contact(workspace, 3), contact(workspace, 2)
    assert uuids(admin.get(URL)) == [str(b.uuid), str(c.uuid), str(a.uuid)]
    assert uuids(admin.get(URL + "?reverse=true")) == [str(a.uuid), str(c.uuid), str(b.uuid)]


def test_only_this_workspaces_contacts(workspace, other_workspace, admin):
    mine = contact(workspace, urns=["tel:+250788000001"])
    theirs = contact(other_workspace, urns=["tel:+250788000001"])
    assert uuids(admin.get(URL)) == [str(mine.uuid)]
    assert uuids(admin.get(f"{URL}?uuid={theirs.uuid}")) == []


def test_filters(workspace, admin, customers):
    a = contact(workspace, 1, urns=["tel:+250788000001"], groups=[customers])
    b = contact(workspace, 2, urns=["twitter:bob"])
    c = contact(workspace, 3, groups=[customers])

    assert uuids(admin.get(f"{URL}?uuid={b.uuid}")) == [str(b.uuid)]
    # URNs are normalised with the workspace's country (RW).
    assert uuids(admin.get(f"{URL}?urn={quote('tel:078-8000001')}")) == [str(a.uuid)]
    assert uuids(admin.get(f"{URL}?urn=twitter:BOB")) == [str(b.uuid)]
    assert uuids(admin.get(f"{URL}?urn=tel:%2B250788999999")) == []
    assert uuids(admin.get(f"{URL}?group=Customers")) == [str(c.uuid), str(a.uuid)]
    assert uuids(admin.get(f"{URL}?group=customers")) == [str(c.uuid), str(a.uuid)]
    assert uuids(admin.get(f"{URL}?group={customers.uuid}")) == [str(c.uuid), str(a.uuid)]
    assert uuids(admin.get(f"{URL}?group=Nobody")) == []
    assert uuids(admin.get(f"{URL}?group=2b8e3e7e-8f4b-4a8e-9c3e-1d2f3a4b5c6d")) == []
    assert uuids(admin.get(f"{URL}?before={quote(format_datetime(b.modified_on))}")) == [str(b.uuid), str(a.uuid)]
    assert uuids(admin.get(f"{URL}?after={quote(format_datetime(b.modified_on))}")) == [str(c.uuid), str(b.uuid)]


def test_group_filter_ignores_other_workspaces_groups(workspace, other_workspace, admin):
    theirs = ContactGroup.objects.create(workspace=other_workspace, name="Customers")
    contact(workspace)
    assert uuids(admin.get(f"{URL}?group={theirs.uuid}")) == []
    assert uuids(admin.get(f"{URL}?group=Customers")) == []


def test_bad_filter_values_are_400(admin):
    response = admin.get(URL + "?urn=12345")
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid URN: 12345"}
    response = admin.get(URL + "?uuid=xyz")
    assert response.json() == {"detail": "Param 'uuid': xyz is not a valid UUID."}
    assert admin.get(URL + "?before=yesterday").status_code == 400


def test_deleted_contacts_are_listed_apart_and_stripped(workspace, admin, customers, nickname):
    alive = contact(workspace)
    gone = contact(workspace, name="Gone", urns=["tel:+250788000001"], groups=[customers], fields={"nickname": "G"})
    writes.delete_contact(gone)
    gone.refresh_from_db()

    assert uuids(admin.get(URL)) == [str(alive.uuid)]
    assert results(admin.get(URL + "?deleted=true")) == [
        {
            "uuid": str(gone.uuid),
            "name": None,
            "status": None,
            "language": None,
            "urns": [],
            "groups": [],
            "notes": [],
            "fields": {},
            "flow": None,
            "created_on": format_datetime(gone.created_on),
            "modified_on": format_datetime(gone.modified_on),
            "last_seen_on": None,
            "blocked": None,
            "stopped": None,
            "status_changed_on": None,
            "status_reason": None,
        }
    ]


def test_anonymous_workspace_masks_urns_and_shows_ref(workspace, admin, customers):
    workspace.is_anonymous = True
    workspace.save()
    ann = contact(workspace, name="Ann", urns=["tel:+250788000001", "twitter:ann"])

    item = results(admin.get(URL))[0]
    assert item["urns"] == ["tel:********", "twitter:********"]
    assert item["ref"] == item["anon_display"] == contact_ref(ann.id)
    assert list(item)[:6] == ["uuid", "name", "ref", "anon_display", "status", "language"]

    response = admin.get(URL + "?urn=tel:%2B250788000001")
    assert response.status_code == 400
    assert response.json() == {"detail": "URN lookups not allowed for anonymous organizations"}


def test_a_page_costs_the_same_queries_whatever_it_holds(workspace, admin, nickname):
    groups = [ContactGroup.objects.create(workspace=workspace, name=f"G{i}") for i in range(3)]
    contact(workspace, urns=["tel:+250788000000"], groups=groups[:1])

    def page_queries():
        with CaptureQueriesContext(connection) as queries:
            assert admin.get(URL).status_code == 200
        return len(queries)

    page_queries()  # the token's first use is recorded (one write a minute at most): not a page's cost
    few = page_queries()
    for i in range(1, 40):
        contact(workspace, urns=[f"tel:+2507880000{i:02d}", f"twitter:c{i}"], groups=groups, fields={"nickname": "x"})
    assert page_queries() == few


def test_pages_of_250_with_absolute_next(workspace, admin):
    writes.save_contacts(workspace, [writes.ContactChanges(name=f"c{i}") for i in range(251)])
    first = admin.get(URL).json()
    assert len(first["results"]) == 250
    assert first["next"].startswith("http://testserver/api/v2/contacts.json?cursor=")
    second = admin.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert second["next"] is None
    assert len({c["uuid"] for c in first["results"] + second["results"]}) == 251


# Creating


def test_body_must_be_an_object(admin):
    response = post(admin, [])
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Request body should be a single JSON object"]}


def test_create_empty_contact(workspace, admin, nickname):
    response = post(admin, {})
    assert response.status_code == 201
    created = Contact.objects.get()
    assert response.json() == {
        "uuid": str(created.uuid),
        "name": None,
        "status": "active",
        "language": None,
        "urns": [],
        "groups": [],
        "notes": [],
        "fields": {"nickname": None},
        "flow": None,
        "created_on": format_datetime(created.created_on),
        "modified_on": format_datetime(created.modified_on),
        "last_seen_on": None,
        "blocked": False,
        "stopped": False,
        "status_changed_on": None,
        "status_reason": None,
    }
    assert post(admin, {"name": None, "language": None, "urns": [], "groups": [], "fields": {}}).status_code == 201


def test_create_with_everything(workspace, admin, customers, nickname):
    vips = ContactGroup.objects.create(workspace=workspace, name="VIPs")
    response = post(
        admin,
        {
            "name": "Jean",
            "language": "fra",
            "urns": ["tel:0783 333 333", "twitter:JEAN"],
            "groups": [str(customers.uuid), "vips"],
            "fields": {"nickname": "Jado"},
        },
    )
    assert response.status_code == 201
    body = response.json()
    jean = Contact.objects.get(uuid=body["uuid"])
    assert (jean.name, jean.language, jean.fields) == ("Jean", "fra", {"nickname": "Jado"})
    assert body["urns"] == ["tel:+250783333333", "twitter:jean"]
    assert [g["name"] for g in body["groups"]] == ["Customers", "VIPs"]
    assert set(jean.groups.all()) == {customers, vips}


def test_any_iso639_3_language_is_a_contact_language(admin):
    # `swh` can't be a broadcast translation key, but a contact may speak it.
    assert post(admin, {"language": "swh"}).json()["language"] == "swh"


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": "x" * 65}, {"name": ["Ensure this field has no more than 64 characters."]}),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"language": "xyz"}, {"language": ["Not a valid ISO639-3 language code."]}),
        ({"language": "en"}, {"language": ["Ensure this field has at least 3 characters."]}),
        ({"urns": "tel:+250788000001"}, {"urns": ['Expected a list of items but got type "str".']}),
        (
            {"urns": ["twitter:ok", "1234556789"]},
            {"urns": {"1": ["Invalid URN: 1234556789. Ensure phone numbers contain country codes."]}},
        ),
        (
            {"urns": [18001234567]},
            {"urns": {"0": ["Invalid URN: 18001234567. Ensure phone numbers contain country codes."]}},
        ),
        (
            {"urns": [f"twitter:b{i}" for i in range(101)]},
            {"urns": ["Ensure this field has no more than 100 elements."]},
        ),
        ({"groups": ["Nobody"]}, {"groups": ["No such object: Nobody"]}),
        ({"groups": [123456]}, {"groups": ["No such object: 123456"]}),
        ({"fields": {"shoe_size": "42"}}, {"fields": ["Invalid contact field key: shoe_size"]}),
        ({"fields": ["nickname"]}, {"fields": ['Expected a dictionary of items but got type "list".']}),
        ({"fields": {"nickname": "a\x00b"}}, {"fields": {"nickname": ["Null characters are not allowed."]}}),
        (
            {"fields": {"nickname": "x" * 641}},
            {"fields": {"nickname": ["Ensure this field has no more than 640 characters."]}},
        ),
        (
            {"fields": {f"f{i}": "x" for i in range(101)}},
            {"fields": ["Ensure this field has no more than 100 elements."]},
        ),
    ],
)
def test_create_rejects(workspace, admin, nickname, data, errors):
    response = post(admin, data)
    assert response.status_code == 400
    assert response.json() == errors
    assert not Contact.objects.exists()


def test_all_field_errors_come_together(admin, nickname):
    response = post(
        admin,
        {"name": "Jim", "language": "xyz", "urns": ["1234556789"], "groups": ["Nobody"], "fields": {"hmmm": "X"}},
    )
    assert response.json() == {
        "language": ["Not a valid ISO639-3 language code."],
        "urns": {"0": ["Invalid URN: 1234556789. Ensure phone numbers contain country codes."]},
        "groups": ["No such object: Nobody"],
        "fields": ["Invalid contact field key: hmmm"],
    }


# docs/COMPATIBILITY.md, C9: RapidPro cuts longer values.
def test_field_values_of_640_characters_are_fine_on_create_and_update(workspace, admin, nickname):
    created = post(admin, {"fields": {"nickname": "x" * 640}})
    assert created.status_code == 201
    assert created.json()["fields"] == {"nickname": "x" * 640}
    update = post(admin, {"fields": {"nickname": "y" * 641}}, f"?uuid={created.json()['uuid']}")
    assert update.status_code == 400
    assert Contact.objects.get(uuid=created.json()["uuid"]).fields == {"nickname": "x" * 640}  # nothing written


def test_a_hundred_urns_are_fine(admin):
    response = post(admin, {"urns": [f"twitter:b{i}" for i in range(100)]})
    assert response.status_code == 201
    assert len(response.json()["urns"]) == 100


def test_urn_of_another_contact_is_in_use(workspace, admin):
    contact(workspace, urns=["tel:+250785555555"])
    response = post(admin, {"name": "Robert", "urns": ["twitter:rob", "tel:078-5555555"]})
    assert response.status_code == 400
    assert response.json() == {"urns": {"1": ["URN is in use by another contact."]}}
    assert Contact.objects.count() == 1
    assert not ContactURN.objects.filter(identity="twitter:rob").exists()


def test_other_workspaces_are_invisible_to_writes(workspace, other_workspace, admin):
    theirs = ContactGroup.objects.create(workspace=other_workspace, name="Spammers")
    ContactField.objects.create(workspace=other_workspace, key="secret", name="Secret")
    contact(other_workspace, urns=["tel:+250785555555"])

    assert post(admin, {"groups": [str(theirs.uuid)]}).json() == {"groups": [f"No such object: {theirs.uuid}"]}
    assert post(admin, {"fields": {"secret": "x"}}).json() == {"fields": ["Invalid contact field key: secret"]}
    # The same URN in another workspace is another contact.
    assert post(admin, {"urns": ["tel:+250785555555"]}).status_code == 201


def test_flagged_workspace_may_still_manage_contacts(workspace, admin):
    workspace.is_flagged = True
    workspace.save()
    assert post(admin, {"name": "Ann"}).status_code == 201


# Updating


def test_update_by_uuid_changes_only_what_is_sent(workspace, admin, customers, nickname):
    jean = contact(workspace, name="Jean", language="fra", urns=["tel:+250783333333"], groups=[customers])
    writes.update_contact(jean, fields={"nickname": "Jado"})

    response = post(admin, {}, f"?uuid={jean.uuid}")
    assert response.status_code == 200
    jean.refresh_from_db()
    assert (jean.name, jean.language, jean.fields) == ("Jean", "fra", {"nickname": "Jado"})
    assert list(jean.groups.all()) == [customers]
    assert [u.identity for u in jean.urns.all()] == ["tel:+250783333333"]


def test_update_by_uuid_replaces_everything_sent(workspace, admin, customers, nickname, gender):
    vips = ContactGroup.objects.create(workspace=workspace, name="VIPs")
    jean = contact(workspace, name="Jean", urns=["tel:+250783333333"], groups=[customers], fields={"gender": "m"})

    response = post(
        admin,
        {
            "name": "Jason",
            "language": "ita",
            "urns": ["twitter:jason", "tel:+250784444444"],
            "groups": ["VIPs"],
            "fields": {"nickname": "Žan", "gender": ""},
        },
        f"?uuid={jean.uuid}",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Jason"
    assert body["language"] == "ita"
    assert body["urns"] == ["twitter:jason", "tel:+250784444444"]
    assert body["groups"] == [{"uuid": str(vips.uuid), "name": "VIPs"}]
    assert body["fields"] == {"nickname": "Žan", "gender": None}
    # The URN it lost is free again.
    assert ContactURN.objects.get(identity="tel:+250783333333").contact is None


def test_update_may_keep_its_own_urns(workspace, admin):
    jean = contact(workspace, urns=["tel:+250783333333", "twitter:jean"])
    response = post(admin, {"urns": ["twitter:jean", "tel:+250783333333"]}, f"?uuid={jean.uuid}")
    assert response.status_code == 200
    assert response.json()["urns"] == ["twitter:jean", "tel:+250783333333"]


def test_update_cannot_take_another_contacts_urn(workspace, admin):
    contact(workspace, urns=["tel:+250785555555"])
    jean = contact(workspace, urns=["twitter:jean"])
    response = post(admin, {"urns": ["tel:+250785555555"]}, f"?uuid={jean.uuid}")
    assert response.json() == {"urns": {"0": ["URN is in use by another contact."]}}
    assert [u.identity for u in jean.urns.all()] == ["twitter:jean"]


def test_update_by_urn(workspace, admin):
    xavier = contact(workspace, name="Xavier", urns=["tel:+250787777777", "twitter:xavier"])
    response = post(admin, {"name": "Xavier II"}, "?urn=" + quote("tel:078-7777777"))
    assert response.status_code == 200
    assert response.json()["uuid"] == str(xavier.uuid)
    assert response.json()["urns"] == ["tel:+250787777777", "twitter:xavier"]

    response = post(admin, {"urns": ["tel:+250785555555"]}, "?urn=" + quote("tel:+250787777777"))
    assert response.status_code == 400
    assert response.json() == {"urns": ["Field not allowed when using URN in URL"]}


def test_update_by_unknown_urn_creates_the_contact(workspace, admin):
    response = post(admin, {"name": "Bobby"}, "?urn=" + quote("tel:+250-78-5555555"))
    assert response.status_code == 201
    assert response.json()["urns"] == ["tel:+250785555555"]
    assert Contact.objects.get().name == "Bobby"


def test_update_lookup_errors(workspace, other_workspace, admin):
    theirs = contact(other_workspace)
    mine = contact(workspace, urns=["tel:+250784444444"])

    response = post(admin, {}, f"?uuid={mine.uuid}&urn=tel:%2B250784444444")
    assert response.status_code == 400
    assert response.json() == {"detail": "URL can only contain one of the following parameters: urn, uuid"}
    assert post(admin, {}, "?uuid=ad6acad9-959b-4d70-b144-5de2891e4d00").status_code == 404
    assert post(admin, {}, f"?uuid={theirs.uuid}").status_code == 404
    assert post(admin, {}, "?urn=12345").json() == {"detail": "Invalid URN: 12345"}


def test_deleted_contacts_cant_be_modified(workspace, admin):
    gone = contact(workspace)
    writes.delete_contact(gone)
    response = post(admin, {"name": "Back"}, f"?uuid={gone.uuid}")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Deleted contacts can't be modified."]}


def test_non_active_contacts_cant_join_groups(workspace, admin, customers):
    blocked = contact(workspace)
    Contact.objects.filter(pk=blocked.pk).update(status=ContactStatus.BLOCKED)
    response = post(admin, {"groups": [str(customers.uuid)]}, f"?uuid={blocked.uuid}")
    assert response.status_code == 400
    assert response.json() == {"groups": ["Non-active contacts can't be added to groups"]}
    # Leaving every group is fine.
    assert post(admin, {"groups": []}, f"?uuid={blocked.uuid}").status_code == 200


def test_anonymous_workspace_writes(workspace, admin):
    workspace.is_anonymous = True
    workspace.save()
    response = post(admin, {"name": "Xavier", "urns": ["tel:+250787777777"]})
    assert response.status_code == 201
    assert response.json()["urns"] == ["tel:********"]
    xavier = Contact.objects.get()
    assert [u.identity for u in xavier.urns.all()] == ["tel:+250787777777"]

    response = post(admin, {"urns": ["tel:+250786666666"]}, f"?uuid={xavier.uuid}")
    assert response.status_code == 400
    assert response.json() == {"urns": ["Updating URNs not allowed for anonymous organizations"]}
    response = post(admin, {}, "?urn=tel:%2B250785555555")
    assert response.status_code == 400
    assert response.json() == {"detail": "URN lookups not allowed for anonymous organizations"}


# Deleting


def test_delete_by_uuid(workspace, admin, customers):
    jean = contact(workspace, urns=["tel:+250784444444"], groups=[customers])
    response = admin.delete(f"{URL}?uuid={jean.uuid}")
    assert response.status_code == 204
    jean.refresh_from_db()
    assert jean.is_active is False
    assert not jean.urns.exists()
    assert not customers.contacts.exists()
    # Gone: deleting again is a 404, and its URN can make a new contact.
    assert admin.delete(f"{URL}?uuid={jean.uuid}").status_code == 404
    assert post(admin, {"urns": ["tel:+250784444444"]}).status_code == 201


def test_delete_by_urn(workspace, admin):
    xavier = contact(workspace, urns=["twitter:xavier"])
    assert admin.delete(f"{URL}?urn=twitter:XAVIER").status_code == 204
    assert Contact.objects.get(pk=xavier.pk).is_active is False
    assert admin.delete(f"{URL}?urn=twitter:billy").status_code == 404


def test_delete_errors(workspace, other_workspace, admin):
    theirs = contact(other_workspace)
    response = admin.delete(URL)
    assert response.status_code == 400
    assert response.json() == {"detail": "URL must contain one of the following parameters: urn, uuid"}
    assert admin.delete(f"{URL}?uuid={theirs.uuid}").status_code == 404
    assert Contact.objects.get(pk=theirs.pk).is_active


def test_openapi_describes_the_endpoint(anon):
    path = anon.get("/api/v2/openapi.json").json()["paths"]["/api/v2/contacts.json"]
    assert set(path) == {"get", "post", "delete"}
    assert {p["name"] for p in path["get"]["parameters"]} >= {"uuid", "urn", "group", "deleted", "before", "after"}
    assert set(path["post"]["responses"]) >= {"200", "201", "400", "404"}
    body = path["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/ContactWriteRequest")
    assert {p["name"] for p in path["post"]["parameters"]} >= {"uuid", "urn", "expand_urns", "urn_order"}
    components = anon.get("/api/v2/openapi.json").json()["components"]["schemas"]
    request = components["ContactWriteRequest"]
    assert (list(request["properties"]), request["additionalProperties"]) == (
        ["name", "language", "note", "urns", "groups", "fields"],
        False,
    )
    assert set(components["ContactNote"]["properties"]) == {"text", "created_on", "created_by"}


# How URNs are shown


# `temba/api/v2/tests/test_serializers.py::FieldsTest::test_contact`: a URN with a display fragment is written
# `scheme:path` (RapidPro's `serialize_urn`, `temba/api/v2/fields.py`); its messages keep the display.
def test_urns_are_written_scheme_and_path_without_their_display(workspace, admin):
    response = post(admin, {"urns": ["twitterid:2352463463#franky", "tel:+250788383383#xyz", "ext:a%23b#c"]})
    assert response.status_code == 201
    # A path holding `#` is escaped, so that the string parses back to the same URN.
    assert response.json()["urns"] == ["twitterid:2352463463", "tel:+250788383383", "ext:a%23b"]
    assert results(admin.get(URL))[0]["urns"] == ["twitterid:2352463463", "tel:+250788383383", "ext:a%23b"]
    stored = ContactURN.objects.get(identity="twitterid:2352463463")
    assert stored.display == "franky"  # kept, for the messages


@pytest.fixture
def vonage(workspace):
    return Channel.objects.create(workspace=workspace, channel_type="EX", name="Vonage", schemes=["tel"])


# `temba/api/v2/tests/test_contacts.py::ContactsEndpointTest::test_endpoint` ("with expanded URNs").
def test_expanded_urns_name_the_channel_that_would_send_to_each(workspace, admin, vonage):
    don = contact(workspace, urns=["tel:0788000004", "twitterid:2352463463#franky"])
    Channel.objects.create(workspace=workspace, channel_type="EX", name="Off", schemes=["twitterid"], is_active=False)

    item = results(admin.get(URL + "?expand_urns=true"))[0]
    assert item["uuid"] == str(don.uuid)
    assert item["urns"] == [
        {"channel": {"uuid": str(vonage.uuid), "name": "Vonage"}, "scheme": "tel", "path": "+250788000004",
         "display": None},
        # docs/COMPATIBILITY.md, C34: RapidPro gives the display of URNs that no channel serves only.
        {"channel": None, "scheme": "twitterid", "path": "2352463463", "display": "franky"},
    ]  # fmt: skip
    # Without the flag (or with it false) URNs are strings.
    assert results(admin.get(URL + "?expand_urns=false"))[0]["urns"] == ["tel:+250788000004", "twitterid:2352463463"]


# `temba/api/v2/tests/test_contacts.py::ContactsEndpointTest::test_endpoint` ("with expanded URNs", anonymous).
def test_expanded_urns_in_an_anonymous_workspace_mask_the_path_and_show_no_display(workspace, admin, vonage):
    workspace.is_anonymous = True
    workspace.save()
    contact(workspace, urns=["tel:+250788000004", "twitterid:2352463463#franky"])
    assert results(admin.get(URL + "?expand_urns=true"))[0]["urns"] == [
        {"channel": {"uuid": str(vonage.uuid), "name": "Vonage"}, "scheme": "tel", "path": "********",
         "display": None},
        {"channel": None, "scheme": "twitterid", "path": "********", "display": None},
    ]  # fmt: skip


# `temba/api/v2/tests/test_contacts.py::ContactsEndpointTest::test_expanded_urns_can_preserve_priority_order`:
# by default URNs a channel can reach come first; `urn_order=priority` keeps the contact's own order.
def test_urn_order_priority_keeps_the_order_of_preference(workspace, admin, vonage):
    reordered = contact(workspace, urns=["tel:+250788123456", "facebook:123456789"])

    response = post(
        admin,
        {"urns": ["facebook:123456789", "tel:+250788123456"]},
        f"?expand_urns=true&urn_order=priority&uuid={reordered.uuid}",
    )
    assert response.status_code == 200
    expanded = response.json()["urns"]
    assert [f"{urn['scheme']}:{urn['path']}" for urn in expanded] == ["facebook:123456789", "tel:+250788123456"]
    assert expanded[0]["channel"] is None
    assert expanded[1]["channel"] == {"uuid": str(vonage.uuid), "name": "Vonage"}

    expanded = results(admin.get(f"{URL}?expand_urns=true&uuid={reordered.uuid}"))[0]["urns"]
    assert [f"{urn['scheme']}:{urn['path']}" for urn in expanded] == ["tel:+250788123456", "facebook:123456789"]
    expanded = results(admin.get(f"{URL}?expand_urns=true&urn_order=priority&uuid={reordered.uuid}"))[0]["urns"]
    assert [f"{urn['scheme']}:{urn['path']}" for urn in expanded] == ["facebook:123456789", "tel:+250788123456"]
    # Strings are always in the order of preference.
    assert results(admin.get(f"{URL}?uuid={reordered.uuid}"))[0]["urns"] == ["facebook:123456789", "tel:+250788123456"]


# docs/COMPATIBILITY.md, C32: RapidPro reads any other value as the default order.
def test_an_unknown_urn_order_is_a_400_and_writes_nothing(workspace, admin):
    error = {"detail": "Param 'urn_order': newest is not a URN order; the only one is priority."}
    response = admin.get(URL + "?expand_urns=true&urn_order=newest")
    assert (response.status_code, response.json()) == (400, error)
    response = post(admin, {"name": "Ann"}, "?expand_urns=true&urn_order=newest")
    assert (response.status_code, response.json()) == (400, error)
    assert not Contact.objects.exists()


# Refs


# `temba/api/v2/tests/test_contacts.py::ContactsEndpointTest::test_endpoint` (anonymous: `ref`, `anon_display`)
# and `temba/contacts/models.py` `Contact.ref`: a short code, not the id.
def test_anonymous_contacts_are_named_by_a_short_code_that_hides_the_id(workspace, admin):
    workspace.is_anonymous = True
    workspace.save()
    writes.save_contacts(workspace, [writes.ContactChanges(name=f"c{i}") for i in range(50)])

    items = results(admin.get(URL))
    refs = [item["ref"] for item in items]
    assert [item["anon_display"] for item in items] == refs
    assert len(set(refs)) == 50
    assert all(len(ref) == 6 and set(ref) <= set(ALPHABET) for ref in refs)
    # Newest first, yet the codes are in no order that tells who came first.
    assert refs != sorted(refs)
    assert refs != sorted(refs, reverse=True)
    # The same contact keeps its code.
    assert [item["ref"] for item in results(admin.get(URL))] == refs


def test_refs_are_not_shown_outside_anonymous_workspaces(workspace, admin):
    contact(workspace)
    assert "ref" not in results(admin.get(URL))[0]


# Notes


@pytest.fixture
def frank(workspace):
    return contact(workspace, name="Frank", urns=["facebook:123456"])


def note_author(workspace, role, first_name, last_name):
    user, key = create_user_token(workspace, role)
    user.first_name, user.last_name = first_name, last_name
    user.save()
    return user, key


# `temba/api/v2/tests/test_contacts.py::ContactsEndpointTest::test_endpoint` ("add some notes for frank"): nine
# notes by two users, the five newest are kept and listed oldest first.
def test_notes_keep_the_five_newest_with_their_authors(workspace, frank, make_client):
    admin_user, _ = note_author(workspace, "admin", "Ann", "Admin")
    editor_user, _ = note_author(workspace, "editor", "Ed", "Itor")
    admin, editor = make_client(workspace, "admin"), make_client(workspace, "editor")
    for i in range(1, 6):
        assert post(admin, {"note": f"Frank is a good guy ({i})"}, f"?uuid={frank.uuid}").status_code == 200
    for i in range(6, 10):
        assert post(editor, {"note": f"Frank is an okay guy ({i})"}, f"?uuid={frank.uuid}").status_code == 200

    listed = results(editor.get(f"{URL}?uuid={frank.uuid}"))[0]["notes"]
    stored = list(ContactNote.objects.filter(contact=frank).order_by("id"))
    assert len(stored) == 5
    assert listed == [
        {
            "text": note.text,
            "created_on": format_datetime(note.created_on),
            "created_by": {"email": note.created_by.email, "name": note.created_by.get_full_name()},
        }
        for note in stored
    ]
    assert listed[0]["text"] == "Frank is a good guy (5)"
    assert listed[0]["created_by"] == {"email": admin_user.email, "name": "Ann Admin"}
    assert listed[-1]["text"] == "Frank is an okay guy (9)"
    assert listed[-1]["created_by"] == {"email": editor_user.email, "name": "Ed Itor"}


def test_a_note_is_kept_on_create_too_and_outlives_its_authors_account(workspace, make_client):
    author, _ = create_user_token(workspace, "editor")
    response = post(make_client(workspace, "editor"), {"name": "Ann", "note": "Met at the market"})
    assert response.status_code == 201
    # docs/COMPATIBILITY.md, C33: RapidPro creates the contact without its note.
    [note] = response.json()["notes"]
    assert note["text"] == "Met at the market"
    assert note["created_by"]["email"] == author.email

    author.delete()
    [note] = results(make_client(workspace, "admin").get(URL))[0]["notes"]
    assert (note["text"], note["created_by"]) == ("Met at the market", None)


def test_a_blank_note_is_a_note(workspace, admin, frank):
    post(admin, {"note": "Likes football"}, f"?uuid={frank.uuid}")
    response = post(admin, {"note": ""}, f"?uuid={frank.uuid}")
    assert [note["text"] for note in response.json()["notes"]] == ["Likes football", ""]


@pytest.mark.parametrize(
    ("note", "error"),
    [
        ("x" * 10_001, "Ensure this field has no more than 10000 characters."),
        (None, "This field may not be null."),
        (["hello"], "Not a valid string."),
        ("a\x00b", "Null characters are not allowed."),
    ],
)
def test_bad_notes_are_refused_and_nothing_is_written(workspace, admin, frank, note, error):
    response = post(admin, {"name": "Francis", "note": note}, f"?uuid={frank.uuid}")
    assert (response.status_code, response.json()) == (400, {"note": [error]})
    frank.refresh_from_db()
    assert frank.name == "Frank"
    assert not ContactNote.objects.exists()


def test_a_deleted_contact_shows_no_notes(workspace, admin, frank):
    post(admin, {"note": "Moved away"}, f"?uuid={frank.uuid}")
    assert admin.delete(f"{URL}?uuid={frank.uuid}").status_code == 204
    assert results(admin.get(URL + "?deleted=true"))[0]["notes"] == []


def test_notes_cost_no_query_per_contact(workspace, admin):
    def page_queries():
        with CaptureQueriesContext(connection) as queries:
            assert admin.get(URL).status_code == 200
        return len(queries)

    contact(workspace)
    page_queries()  # the token's first use is recorded
    none = page_queries()
    for i in range(10):
        noted = contact(workspace, urns=[f"tel:+2507880000{i:02d}"])
        post(admin, {"note": "one"}, f"?uuid={noted.uuid}")
        post(admin, {"note": "two"}, f"?uuid={noted.uuid}")
    assert page_queries() == none


# Fields a contact doesn't have


# docs/COMPATIBILITY.md, C32: RapidPro's serializer ignores what it doesn't know (a 200 that changed nothing).
def test_a_field_a_contact_does_not_have_is_a_400_and_writes_nothing(workspace, admin, frank):
    message = "Not a field of a contact: a POST may send name, language, note, urns, groups, fields."
    response = post(admin, {"name": "Ann", "status": "blocked", "blocked": True})
    assert (response.status_code, response.json()) == (400, {"status": [message], "blocked": [message]})
    assert Contact.objects.count() == 1

    # Reported with the other errors, on update as on create.
    response = post(admin, {"name": "x" * 65, "group": ["Customers"]}, f"?uuid={frank.uuid}")
    assert response.json() == {"name": ["Ensure this field has no more than 64 characters."], "group": [message]}
    frank.refresh_from_db()
    assert frank.name == "Frank"


def test_every_field_rapidpro_accepts_is_written(workspace, admin, customers, nickname):
    # `temba/api/v2/serializers.py` `ContactWriteSerializer`: name, language, note, urns, groups, fields.
    body = {
        "name": "Jean",
        "language": "fra",
        "note": "Prefers French",
        "urns": ["tel:+250783333333"],
        "groups": [str(customers.uuid)],
        "fields": {"nickname": "Jado"},
    }
    created = post(admin, body).json()
    assert (created["name"], created["language"], created["urns"]) == ("Jean", "fra", ["tel:+250783333333"])
    assert (created["groups"][0]["name"], created["fields"], created["notes"][0]["text"]) == (
        "Customers",
        {"nickname": "Jado"},
        "Prefers French",
    )
