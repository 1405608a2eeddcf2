"""The contacts pages through Django's test client: the list and its search, a contact's page, block / unblock,
the groups and a group's members."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from herald.contacts import writes
from herald.contacts.models import Contact, ContactField, ContactStatus, ContactStatusChange, StatusReason
from herald.msgs.models import MsgDirection
from herald.testing.factories import make_contact, make_group, make_msg
from herald.web.views import contacts as contact_views

pytestmark = pytest.mark.django_db
# Pages of a few rows keep the tests quick; every list is paged by the same code whatever its size.
PAGE_SIZE = 5


@pytest.fixture(autouse=True)
def small_pages(monkeypatch):
    monkeypatch.setattr(contact_views, "PAGE_SIZE", PAGE_SIZE)


def names_listed(response) -> list[str]:
    assert response.status_code == 200, response.content
    return re.findall(r'<a href="/contacts/[0-9a-f-]{36}/">([^<]*)</a>', response.content.decode())


def next_page(response) -> str | None:
    found = re.search(r'<a href="(\?[^"]*after=[0-9a-f-]{36})">Next page', response.content.decode())
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_list_shows_contacts_most_recently_changed_first(web_client, workspace):
    ann = make_contact(workspace, "Ann", ["tel:+250788000001"])
    make_contact(workspace, "Bob", ["tel:+250788000002"])
    writes.update_contact(ann, name="Ann B")
    page = web_client(workspace, "agent").get("/contacts/")
    assert names_listed(page) == ["Ann B", "Bob"]
    assert "tel:+250788000001" in page.content.decode()


def test_search_by_the_start_of_a_name_ignores_case_and_pages_in_name_order(web_client, workspace, other_workspace):
    for n in range(PAGE_SIZE + 3):
        make_contact(workspace, f"Mar{n:03d}")
    make_contact(workspace, "maria")
    make_contact(workspace, "Anna Mar")  # "mar" inside a name, not at its start
    make_contact(other_workspace, "Mary")
    client = web_client(workspace)

    first = client.get("/contacts/", {"q": "MAR"})
    assert names_listed(first) == [f"Mar{n:03d}" for n in range(PAGE_SIZE)]
    second = client.get("/contacts/" + next_page(first))
    assert names_listed(second) == [*(f"Mar{n:03d}" for n in range(PAGE_SIZE, PAGE_SIZE + 3)), "maria"]
    assert next_page(second) is None
    assert names_listed(client.get("/contacts/", {"q": "maria"})) == ["maria"]
    assert "No contact matches." in client.get("/contacts/", {"q": "zz"}).content.decode()


def test_a_page_of_equal_names_goes_on_after_the_last_contact_shown(web_client, workspace):
    # Six names equal to the search, then one after them: the page ends inside the ties; the next takes the rest.
    for name in ("Ann", "ann", "ANN", "aNN", "AnN", "anN", "Anna"):
        make_contact(workspace, name)
    client = web_client(workspace)
    first = client.get("/contacts/", {"q": "ann"})
    assert names_listed(first) == ["Ann", "ann", "ANN", "aNN", "AnN"]
    second = client.get("/contacts/" + next_page(first))
    assert names_listed(second) == ["anN", "Anna"]
    assert next_page(second) is None


def test_search_by_phone_number_or_urn_finds_its_owner(web_client, workspace):
    make_contact(workspace, "Ann", ["tel:+250788123456", "telegram:1234"])
    make_contact(workspace, "Bob", ["tel:+250788654321"])
    client = web_client(workspace)
    assert names_listed(client.get("/contacts/", {"q": "0788 123 456"})) == ["Ann"]  # national, in Rwanda
    assert names_listed(client.get("/contacts/", {"q": "+250788654321"})) == ["Bob"]
    assert names_listed(client.get("/contacts/", {"q": "telegram:1234"})) == ["Ann"]
    assert names_listed(client.get("/contacts/", {"q": "tel:+250788999999"})) == []


def test_an_anonymous_workspace_shows_no_urn_and_is_not_searched_by_one(web_client, workspace):
    workspace.is_anonymous = True
    workspace.save()
    ann = make_contact(workspace, "Ann", ["tel:+250788123456"])
    client = web_client(workspace)
    listed = client.get("/contacts/").content.decode()
    assert "tel:********" in listed
    assert "788123456" not in listed
    assert names_listed(client.get("/contacts/", {"q": "+250788123456"})) == []
    page = client.get(f"/contacts/{ann.uuid}/").content.decode()
    assert "tel:********" in page
    assert "788123456" not in page


def test_odd_searches_are_answered_not_failed(web_client, workspace):
    make_contact(workspace, "Ann")
    client = web_client(workspace)
    for query in ("\0", "a\0", "x" * 5000, "%", "_", "tel:", "\U0010ffff", "\ud7ff"):
        assert client.get("/contacts/", {"q": query}).status_code == 200, query
    assert client.get("/contacts/", {"after": "not-a-uuid"}).status_code == 404


def test_search_as_you_type_answers_the_results_alone(web_client, workspace):
    make_contact(workspace, "Ann")
    response = web_client(workspace).get(
        "/contacts/", {"q": "an"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="contact-results"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="contact-results"')
    assert "<html" not in body
    assert names_listed(response) == ["Ann"]


def test_a_page_costs_the_same_queries_however_many_contacts(web_client, workspace, django_assert_max_num_queries):
    client = web_client(workspace)
    for n in range(3 * PAGE_SIZE):
        make_contact(workspace, f"Ann {n}", [f"tel:+25078800{n:04d}"])
    # Session, user, membership, the page's rows, their URNs (and the cursor's row on a later page).
    with django_assert_max_num_queries(6):
        first = client.get("/contacts/")
    with django_assert_max_num_queries(7):
        client.get("/contacts/" + next_page(first))
    searched = client.get("/contacts/", {"q": "ann"})
    with django_assert_max_num_queries(7):
        client.get("/contacts/" + next_page(searched))


def test_a_contacts_page_shows_its_urns_fields_groups_and_messages(web_client, workspace):
    ContactField.objects.create(workspace=workspace, key="district", name="District")
    ann = make_contact(workspace, "Ann", ["tel:+250788123456", "mailto:ann@example.com"], fields={"district": "Gasabo"})
    make_group(workspace, "Nurses", [ann])
    make_group(workspace, "Drivers")
    make_msg(ann, "Your appointment is at 10", created_on=timezone.now() - timedelta(hours=1))
    make_msg(ann, "Thanks!", direction=MsgDirection.IN)
    page = web_client(workspace, "agent").get(f"/contacts/{ann.uuid}/").content.decode()
    for shown in ("Ann", "tel:+250788123456", "mailto:ann@example.com", "District", "Gasabo", "Nurses", "active"):
        assert shown in page
    assert "Drivers" not in page
    assert page.index("Thanks!") < page.index("Your appointment is at 10")  # newest first


def test_a_contacts_messages_are_paged_newest_first(web_client, workspace):
    ann = make_contact(workspace, "Ann", ["tel:+250788123456"])
    start = timezone.now() - timedelta(days=1)
    for n in range(PAGE_SIZE + 2):
        make_msg(ann, f"message number {n:03d}", created_on=start + timedelta(minutes=n))
    client = web_client(workspace)
    first = client.get(f"/contacts/{ann.uuid}/").content.decode()
    assert f"message number {PAGE_SIZE + 1:03d}" in first
    assert "message number 001" not in first
    older = re.search(r'href="(\?before=[0-9a-f-]{36})">Older messages', first).group(1)
    second = client.get(f"/contacts/{ann.uuid}/{older}").content.decode()
    assert "message number 001" in second
    assert "message number 000" in second
    assert "message number 002" not in second


def test_another_workspaces_contact_or_group_is_not_found(web_client, workspace, other_workspace):
    theirs = make_contact(other_workspace, "Theirs", ["tel:+15555550100"])
    group = make_group(other_workspace, "Their group", [theirs])
    client = web_client(workspace)
    assert client.get(f"/contacts/{theirs.uuid}/").status_code == 404
    assert client.post(f"/contacts/{theirs.uuid}/block").status_code == 404
    assert client.get(f"/contacts/groups/{group.uuid}/").status_code == 404
    assert client.get("/contacts/", {"after": str(theirs.uuid)}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ContactStatus.ACTIVE


def test_a_deleted_contact_is_not_found(web_client, workspace):
    gone = make_contact(workspace, "Gone")
    writes.delete_contact(gone)
    assert web_client(workspace).get(f"/contacts/{gone.uuid}/").status_code == 404


def test_html_in_names_fields_groups_and_texts_is_shown_as_text(web_client, workspace):
    ContactField.objects.create(workspace=workspace, key="note", name="Note")
    evil = make_contact(workspace, "<script>alert(1)</script>", ["tel:+250788123456"], fields={"note": "<b>bold</b>"})
    make_group(workspace, "<img src=x onerror=alert(2)>", [evil])
    make_msg(evil, "<iframe src=//evil.test>")
    client = web_client(workspace)
    pages = [
        client.get("/contacts/").content.decode(),
        client.get("/contacts/", {"q": "<script>"}).content.decode(),
        client.get(f"/contacts/{evil.uuid}/").content.decode(),
        client.get("/contacts/groups/").content.decode(),
    ]
    for page in pages:
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "<b>bold" not in page
        assert "<iframe" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[2]
    assert "&lt;b&gt;bold&lt;/b&gt;" in pages[2]


def test_block_and_unblock_record_who_and_when(web_client, workspace):
    ann = make_contact(workspace, "Ann", ["tel:+250788123456"])
    make_group(workspace, "Nurses", [ann])
    client = web_client(workspace, "agent")  # agents may, as on contact_actions.json
    assert client.get(f"/contacts/{ann.uuid}/block").status_code == 405  # a link can't block: POST only

    response = client.post(f"/contacts/{ann.uuid}/block")
    assert response.status_code == 302
    assert response.url == f"/contacts/{ann.uuid}/"
    ann.refresh_from_db()
    assert ann.status == ContactStatus.BLOCKED
    assert not ann.groups.exists()  # blocked contacts leave their groups, as through the API
    change = ContactStatusChange.objects.get(contact=ann)
    assert (change.status, change.reason) == (ContactStatus.BLOCKED, StatusReason.BLOCKED)
    assert change.created_by == client.user
    assert timezone.now() - change.created_on < timedelta(minutes=1)
    page = client.get(f"/contacts/{ann.uuid}/").content.decode()
    assert re.search(r'id="contact-status">blocked<', page)
    assert client.user.email in page
    assert "Unblock" in page

    client.post(f"/contacts/{ann.uuid}/unblock")
    ann.refresh_from_db()
    assert ann.status == ContactStatus.ACTIVE
    assert list(ann.status_changes.order_by("id").values_list("status", "created_by")) == [
        (ContactStatus.BLOCKED, client.user.pk),
        (ContactStatus.ACTIVE, client.user.pk),
    ]


def test_blocking_through_the_api_records_the_tokens_user(admin, workspace):
    ann = make_contact(workspace, "Ann", ["tel:+250788123456"])
    body = {"contacts": [str(ann.uuid)], "action": "block"}
    assert admin.post("/api/v2/contact_actions.json", body, format="json").status_code == 204
    assert ContactStatusChange.objects.get(contact=ann).created_by.email == f"admin-{workspace.pk}@example.com"


def test_the_status_history_says_why(web_client, workspace):
    ann = make_contact(workspace, "Ann", ["tel:+250788123456"])
    writes.stop_contacts([ann.pk], StatusReason.STOP_KEYWORD)
    page = web_client(workspace).get(f"/contacts/{ann.uuid}/").content.decode()
    assert "stopped" in page
    assert "the contact sent a stop word" in page


def test_groups_list_their_member_counts_and_page_their_members(
    web_client, workspace, other_workspace, django_assert_max_num_queries
):
    members = [make_contact(workspace, f"Member {n:03d}") for n in range(PAGE_SIZE + 3)]
    nurses = make_group(workspace, "Nurses", members)
    make_group(workspace, "Drivers", members[:2])
    writes.delete_contact(members[0])
    make_group(other_workspace, "Not ours")
    client = web_client(workspace, "agent")

    listed = client.get("/contacts/groups/").content.decode()
    assert re.search(r">Drivers</a></td><td>1<", listed)
    assert re.search(rf">Nurses</a></td><td>{PAGE_SIZE + 2}<", listed)
    assert "Not ours" not in listed

    first = client.get(f"/contacts/groups/{nurses.uuid}/")
    assert names_listed(first) == [f"Member {n:03d}" for n in range(PAGE_SIZE + 2, 2, -1)]
    # Session, user, membership, the group, its members' ids, their contacts, URNs, and the cursor's contact.
    with django_assert_max_num_queries(8):
        second = client.get(f"/contacts/groups/{nurses.uuid}/" + next_page(first))
    assert names_listed(second) == ["Member 002", "Member 001"]
    assert client.get(f"/contacts/groups/{nurses.uuid}/", {"after": "not-a-uuid"}).status_code == 404
    assert next_page(second) is None


def test_signed_out_visitors_are_sent_to_sign_in(client, workspace):
    ann = make_contact(workspace, "Ann")
    for url in ("/contacts/", f"/contacts/{ann.uuid}/", "/contacts/groups/", "/contacts/import"):
        assert client.get(url).url.startswith("/signin?next=")
    assert client.post(f"/contacts/{ann.uuid}/block").status_code == 302
    assert Contact.objects.get(pk=ann.pk).status == ContactStatus.ACTIVE
