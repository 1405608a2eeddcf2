"""Groups' member counts, kept by the database's triggers (contacts migration 0006), through every path that changes
a group's members or a member's standing: what groups.json's `count` and the groups page show must equal the count
over the memberships (members that aren't deleted, whatever their status) after each step, before and after the
tick folds the deltas. Run on both configurations (SQLite, and PostgreSQL with HERALD_DATABASE_URL)."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count, Q

from herald.contacts import group_counts, writes
from herald.contacts.models import Contact, ContactGroup, ContactGroupCount, ContactStatus, StatusReason
from herald.testing.factories import make_contact, make_group
from herald.testing.fixtures import results

pytestmark = pytest.mark.django_db

GROUPS = "/api/v2/groups.json"


def truth(workspace) -> dict[str, int]:
    """Each active group's count as groups.json counted it at read time before the triggers."""
    groups = ContactGroup.objects.filter(workspace=workspace, is_active=True)
    counted = groups.annotate(n=Count("contacts", filter=Q(contacts__is_active=True)))
    return dict(counted.values_list("name", "n"))


def shown_by_api(admin) -> dict[str, int]:
    return {g["name"]: g["count"] for g in results(admin.get(GROUPS))}


def shown_by_page(client) -> dict[str, int]:
    page = client.get("/contacts/groups/").content.decode()
    return {
        name: int(n)
        for name, n in re.findall(r'<a href="/contacts/groups/[0-9a-f-]{36}/">([^<]*)</a></td><td>(\d+)<', page)
    }


@pytest.fixture
def check(admin, web_client, workspace):
    """check(expected) -> both interfaces show `expected`, which is also the count over the memberships; and still
    do once the tick has folded the deltas."""
    client = web_client(workspace, "agent")

    def check(expected: dict[str, int]) -> None:
        assert truth(workspace) == expected
        assert shown_by_api(admin) == expected
        assert shown_by_page(client) == expected
        while group_counts.squash():
            pass
        assert not ContactGroupCount.objects.filter(squashed=False).exists()
        assert shown_by_api(admin) == expected
        assert shown_by_page(client) == expected

    return check


def action(admin, contacts, name, **extra):
    response = admin.post(
        "/api/v2/contact_actions.json",
        {"contacts": [str(c.uuid) for c in contacts], "action": name, **extra},
        format="json",
    )
    assert response.status_code == 204, response.content


def test_counts_follow_the_api_writes(admin, workspace, other_workspace, check):
    nurses = admin.post(GROUPS, {"name": "Nurses"}, format="json").json()
    drivers = admin.post(GROUPS, {"name": "Drivers"}, format="json").json()
    make_group(other_workspace, "Not ours", [make_contact(other_workspace, "Zed")])
    check({"Nurses": 0, "Drivers": 0})

    # contacts.json: created in groups, then one's groups set to exactly others.
    people = []
    for n in range(5):
        response = admin.post(
            "/api/v2/contacts.json",
            {"name": f"P{n}", "urns": [f"tel:+25078800010{n}"], "groups": [nurses["uuid"]]},
            format="json",
        )
        assert response.status_code == 201, response.content
        people.append(Contact.objects.get(uuid=response.json()["uuid"]))
    check({"Nurses": 5, "Drivers": 0})
    response = admin.post(f"/api/v2/contacts.json?uuid={people[0].uuid}", {"groups": [drivers["uuid"]]}, format="json")
    assert response.status_code == 200, response.content
    check({"Nurses": 4, "Drivers": 1})

    # contact_actions: add (one already a member), remove, block (leaves every group), unblock (rejoins none).
    action(admin, people[:3], "add", group=drivers["uuid"])
    check({"Nurses": 4, "Drivers": 3})
    action(admin, people[1:2], "remove", group=nurses["uuid"])
    check({"Nurses": 3, "Drivers": 3})
    action(admin, people[2:4], "block")
    check({"Nurses": 1, "Drivers": 2})
    action(admin, people[2:4], "unblock")
    check({"Nurses": 1, "Drivers": 2})

    # A stop word: a stopped contact stays in its groups and still counts.
    writes.stop_contacts([people[4].pk], StatusReason.STOP_KEYWORD)
    assert Contact.objects.get(pk=people[4].pk).status == ContactStatus.STOPPED
    check({"Nurses": 1, "Drivers": 2})

    # Deleting contacts: through contact_actions and contacts.json.
    action(admin, people[4:5], "delete")
    check({"Nurses": 0, "Drivers": 2})
    assert admin.delete(f"/api/v2/contacts.json?uuid={people[0].uuid}").status_code == 204
    check({"Nurses": 0, "Drivers": 1})

    # Deleting a group takes its members out of it; another group of theirs keeps counting them.
    action(admin, people[1:2], "add", group=nurses["uuid"])
    check({"Nurses": 1, "Drivers": 1})
    assert admin.delete(f"{GROUPS}?uuid={drivers['uuid']}").status_code == 204
    check({"Nurses": 1})
    # A new group of the deleted one's name starts from nothing.
    admin.post(GROUPS, {"name": "Drivers"}, format="json")
    check({"Nurses": 1, "Drivers": 0})


def test_counts_follow_the_web_interface(web_client, workspace, eager_tasks, django_capture_on_commit_callbacks, check):
    client = web_client(workspace, "editor")
    ann = make_contact(workspace, "Ann", ["tel:+250788000001"])
    nurses = make_group(workspace, "Nurses", [ann])
    check({"Nurses": 1})

    # An import into a group: new contacts and an existing one (Ann, already in it) join it.
    rows = "name,urn:tel\nAnn,+250788000001\nBob,+250788000002\nCat,+250788000003\nBad,not a number\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/contacts/import",
            {"file": SimpleUploadedFile("people.csv", rows.encode(), "text/csv"), "group": "Nurses"},
        )
    assert response.status_code == 302, response.content
    check({"Nurses": 3})
    # An import into a new group.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/contacts/import", {"file": SimpleUploadedFile("p.csv", rows.encode(), "text/csv"), "group": "New"}
        )
    check({"Nurses": 3, "New": 3})

    # Blocking on a contact's page: it leaves both groups; unblocking brings it back to none.
    bob = Contact.objects.get(name="Bob")
    assert client.post(f"/contacts/{bob.uuid}/block").status_code == 302
    check({"Nurses": 2, "New": 2})
    assert client.post(f"/contacts/{bob.uuid}/unblock").status_code == 302
    check({"Nurses": 2, "New": 2})
    assert nurses.contacts.count() == 2


def test_counts_follow_writes_behind_the_interfaces_back(workspace, check):
    """Raw writes (a hand-made script, a cascade) count as Herald's own do: the triggers see the tables."""
    people = [make_contact(workspace, f"P{n}") for n in range(4)]
    one = make_group(workspace, "One", people)
    two = make_group(workspace, "Two", people[:2])
    check({"One": 4, "Two": 2})
    # Deleted by flag only (still linked): no longer counted; undeleted: counted again.
    Contact.objects.filter(pk=people[0].pk).update(is_active=False)
    check({"One": 3, "Two": 1})
    Contact.objects.filter(pk=people[0].pk).update(is_active=True)
    check({"One": 4, "Two": 2})
    # A membership moved from one group to another by an UPDATE.
    Membership = ContactGroup.contacts.through
    Membership.objects.filter(contactgroup=one, contact=people[3]).update(contactgroup=two)
    check({"One": 3, "Two": 3})
    # Contacts deleted outright (Django's cascade deletes their memberships first), and an inactive one.
    Contact.objects.filter(pk=people[1].pk).update(is_active=False)
    Contact.objects.filter(pk__in=[people[1].pk, people[2].pk]).delete()
    check({"One": 1, "Two": 2})
    # A group deleted outright takes its count rows along.
    two.delete()
    check({"One": 1})
    assert set(ContactGroupCount.objects.values_list("group_id", flat=True)) == {one.pk}
