"""`/api/v2/groups.json`: listing, creating, renaming and deleting contact groups (RapidPro's
`ContactGroupsEndpoint` in `temba/api/v2/views.py`)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from herald.contacts import writes
from herald.contacts.models import Contact, ContactGroup
from herald.testing.fixtures import poster, results

URL = "/api/v2/groups.json"
post = poster(URL)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def group(workspace, name, minutes=0, contacts=()):
    """A group created `minutes` after T0 (so tests control the list order)."""
    made = ContactGroup.objects.create(workspace=workspace, name=name, created_on=T0 + timedelta(minutes=minutes))
    made.contacts.add(*contacts)
    return made


def item(g, count=0):
    return {"uuid": str(g.uuid), "name": g.name, "query": None, "status": "ready", "system": False, "count": count}


def test_role_matrix(workspace, admin, assert_roles):
    assert_roles(
        URL,
        # An agent's token is refused (APIToken.ALLOWED_ROLES, as RapidPro's): see test_auth.py.
        get={"anon": 403, "admin": 200, "editor": 200, "agent": 403},
        post={
            "anon": ({"name": "A"}, 403),
            "agent": ({"name": "A"}, 403),
            "editor": ({"name": "A"}, 201),
            "admin": ({"name": "B"}, 201),
        },
    )
    target = ContactGroup.objects.get(name="A")
    assert_roles(f"{URL}?uuid={target.uuid}", delete={"anon": 403, "agent": 403, "editor": 204})
    assert admin.put(URL, {}, format="json").status_code == 405


def test_list_newest_first_with_active_member_counts(workspace, other_workspace, admin):
    alive = [writes.create_contact(workspace) for _ in range(3)]
    gone = writes.create_contact(workspace)
    customers = group(workspace, "Customers", 1, [*alive, gone])
    writes.delete_contact(gone)
    # A member deleted behind the API's back (still linked) isn't counted either.
    Contact.objects.filter(pk=alive[2].pk).update(is_active=False)
    reporters = group(workspace, "Reporters", 2)
    deleted = group(workspace, "Old", 3)
    deleted.is_active = False
    deleted.save()
    group(other_workspace, "Spammers", 4)

    assert results(admin.get(URL)) == [item(reporters), item(customers, count=2)]


def test_filters(workspace, admin):
    customers = group(workspace, "Customers", 1)
    developers = group(workspace, "Developers", 2)
    assert results(admin.get(f"{URL}?uuid={customers.uuid}")) == [item(customers)]
    assert results(admin.get(f"{URL}?name=developers")) == [item(developers)]
    assert results(admin.get(f"{URL}?name=Nobody")) == []

    response = admin.get(f"{URL}?uuid={customers.uuid}&name=developers")
    assert response.status_code == 400
    assert response.json() == {"detail": "You may only specify one of the uuid, name parameters"}
    assert admin.get(f"{URL}?uuid=xyz").json() == {"detail": "Param 'uuid': xyz is not a valid UUID."}


def test_other_workspaces_groups_are_invisible(workspace, other_workspace, admin):
    spammers = group(other_workspace, "Spammers")
    assert results(admin.get(f"{URL}?uuid={spammers.uuid}")) == []
    assert results(admin.get(f"{URL}?name=Spammers")) == []
    assert post(admin, {"name": "Renamed"}, f"?uuid={spammers.uuid}").status_code == 404
    assert admin.delete(f"{URL}?uuid={spammers.uuid}").status_code == 404
    # Names are unique per workspace only.
    assert post(admin, {"name": "Spammers"}).status_code == 201


def test_a_page_costs_the_same_queries_whatever_it_holds(workspace, admin):
    group(workspace, "G0", contacts=[writes.create_contact(workspace)])

    def page_queries():
        with CaptureQueriesContext(connection) as queries:
            assert admin.get(URL).status_code == 200
        return len(queries)

    page_queries()  # the token's first use is recorded (one write a minute at most): not a page's cost
    few = page_queries()
    members = [writes.create_contact(workspace) for _ in range(20)]
    for i in range(1, 30):
        group(workspace, f"G{i}", i, contacts=members)
    assert page_queries() == few


def test_create(workspace, admin):
    response = post(admin, {"name": "Reporters"})
    assert response.status_code == 201
    reporters = ContactGroup.objects.get(name="Reporters")
    assert response.json() == item(reporters)
    assert reporters.workspace == workspace


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, {"name": ["This field is required."]}),
        ({"name": None}, {"name": ["This field may not be null."]}),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"name": "x" * 65}, {"name": ["Ensure this field has no more than 64 characters."]}),
        ({"name": '"People"'}, {"name": ['Cannot contain the character: "']}),
        ({"name": "Back\\slash"}, {"name": ["Cannot contain the character: \\"]}),
        ({"name": " People"}, {"name": ["Cannot begin or end with whitespace."]}),
        ({"name": "People\t"}, {"name": ["Cannot begin or end with whitespace."]}),
        ({"name": "Peo\x00ple"}, {"name": ["Null characters are not allowed."]}),
    ],
)
def test_create_rejects(workspace, admin, data, errors):
    response = post(admin, data)
    assert response.status_code == 400
    assert response.json() == errors
    assert not ContactGroup.objects.exists()


def test_names_are_unique_whatever_the_case(workspace, admin):
    assert post(admin, {"name": "Reporters"}).status_code == 201
    response = post(admin, {"name": "reporters"})
    assert response.status_code == 400
    assert response.json() == {"name": ["This field must be unique."]}


def test_a_deleted_groups_name_can_be_reused(workspace, admin):
    old = group(workspace, "Reporters")
    assert admin.delete(f"{URL}?uuid={old.uuid}").status_code == 204
    assert post(admin, {"name": "Reporters"}).status_code == 201


def test_rename(workspace, admin):
    reporters = group(workspace, "Reporters", contacts=[writes.create_contact(workspace)])
    other = group(workspace, "Other")
    response = post(admin, {"name": "U-Reporters"}, f"?uuid={reporters.uuid}")
    assert response.status_code == 200
    assert response.json() == {**item(reporters, count=1), "name": "U-Reporters"}
    # Its own name in another case is fine; another group's isn't.
    assert post(admin, {"name": "u-reporters"}, f"?uuid={reporters.uuid}").status_code == 200
    assert post(admin, {"name": "other"}, f"?uuid={reporters.uuid}").json() == {"name": ["This field must be unique."]}
    assert post(admin, {"name": "X"}, "?uuid=ad6acad9-959b-4d70-b144-5de2891e4d00").status_code == 404
    other.refresh_from_db()
    assert other.name == "Other"


def test_limit_per_workspace_is_409(workspace, admin):
    ContactGroup.objects.bulk_create(
        ContactGroup(workspace=workspace, name=f"g{i}") for i in range(ContactGroup.MAX_PER_WORKSPACE)
    )
    response = post(admin, {"name": "One more"})
    assert response.status_code == 409
    assert response.json() == {"detail": "Cannot create object because workspace has reached limit."}
    # Renaming is still allowed, and deleted groups don't count.
    last = ContactGroup.objects.filter(workspace=workspace).last()
    assert post(admin, {"name": "Renamed"}, f"?uuid={last.uuid}").status_code == 200
    assert admin.delete(f"{URL}?uuid={last.uuid}").status_code == 204
    assert post(admin, {"name": "One more"}).status_code == 201


def test_delete(workspace, admin):
    member = writes.create_contact(workspace)
    customers = group(workspace, "Customers", contacts=[member])
    before = Contact.objects.get(pk=member.pk).modified_on

    assert admin.delete(f"{URL}?uuid={customers.uuid}").status_code == 204
    customers.refresh_from_db()
    assert customers.is_active is False
    assert not member.groups.exists()
    # Its members changed: clients syncing contacts by modified_on see it.
    assert Contact.objects.get(pk=member.pk).modified_on > before
    assert results(admin.get(URL)) == []
    assert admin.delete(f"{URL}?uuid={customers.uuid}").status_code == 404


def test_delete_errors(admin):
    response = admin.delete(URL)
    assert response.status_code == 400
    assert response.json() == {"detail": "URL must contain one of the following parameters: uuid"}
    assert admin.delete(f"{URL}?uuid=ad6acad9-959b-4d70-b144-5de2891e4d00").status_code == 404


def test_openapi_describes_the_endpoint(anon):
    path = anon.get("/api/v2/openapi.json").json()["paths"]["/api/v2/groups.json"]
    assert set(path) == {"get", "post", "delete"}
    assert {p["name"] for p in path["get"]["parameters"]} >= {"uuid", "name", "cursor"}
    assert set(path["post"]["responses"]) >= {"200", "201", "400", "404", "409"}


@pytest.mark.parametrize("flag", ["is_flagged", "is_suspended"])
def test_flagged_or_suspended_workspace_may_still_create_and_rename_groups(workspace, admin, flag):
    # Only writes that send are blocked (broadcasts, media); managing groups sends nothing.
    setattr(workspace, flag, True)
    workspace.save()
    created = admin.post(URL, {"name": "Reporters"}, format="json")
    assert created.status_code == 201, created.content
    renamed = admin.post(f"{URL}?uuid={created.json()['uuid']}", {"name": "Writers"}, format="json")
    assert renamed.status_code == 200, renamed.content


def test_no_system_groups_are_listed_only_the_workspaces_own(workspace, admin):
    # temba/api/v2/tests/test_groups.py::ContactGroupsEndpointTest::test_endpoint lists RapidPro's one system group,
    # "Open Tickets" (`system: true`); contacts' status groups are left out there too. Herald has no tickets, and a
    # contact's status is its `status` (docs/COMPATIBILITY.md, C38).
    statuses = ["A", "B", "S", "V"]
    everyone = [Contact.objects.create(workspace=workspace, name=f"C{s}", status=s) for s in statuses]
    customers = group(workspace, "Customers", contacts=everyone[:1])
    assert results(admin.get(URL)) == [item(customers, count=1)]
    for name in ("Open Tickets", "Active", "Blocked", "Stopped", "Archived"):
        assert results(admin.get(URL, {"name": name})) == [], name
