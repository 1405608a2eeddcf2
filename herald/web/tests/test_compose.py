"""The compose page through Django's test client: its preview is the API's dry run, Send creates what the API's POST
creates, the API's errors show beside their fields, HTML stays text, agents and other workspaces are kept out."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from herald.contacts.models import ContactField, ContactStatus
from herald.msgs.models import Broadcast
from herald.testing.factories import make_contact, make_group, make_media
from herald.testing.fixtures import poster
from herald.testing.gateway import gateway_channel

pytestmark = pytest.mark.django_db

COMPOSE = "/compose/"
api_post = poster("/api/v2/broadcasts.json")


@pytest.fixture
def reporters(workspace):
    """A group with contacts in two languages, one blocked member (left out) and one with no URN (excluded)."""
    gateway_channel(workspace, "http://127.0.0.1:9", tps=10)  # nothing is sent: the dry run only routes
    members = [
        make_contact(workspace, "Ann", ["tel:+250788000001"]),
        make_contact(workspace, "Aimée", ["tel:+250788000002"], language="fra"),
        make_contact(workspace, "Bob", ["tel:+250788000003"], status=ContactStatus.BLOCKED),
        make_contact(workspace, "Eve"),
    ]
    return make_group(workspace, "Reporters", members)


def figures(page: str) -> dict[str, str]:
    """What the preview shows: each `data-figure` element's number."""
    return dict(re.findall(r'<dd data-figure="([^"]+)">([^<]*)</dd>', page))


def api_figures(plan: dict) -> dict[str, str]:
    """The dry run's answer as the preview names its figures (reasons and languages only when not zero)."""
    shown = {key: str(plan[key]) for key in ("recipients", "sendable", "new_contacts")}
    shown |= {f"segments.{key}": str(n) for key, n in plan["segments"].items()}
    for part in ("languages", "excluded", "left_out"):
        shown |= {f"{part}.{key}": str(n) for key, n in plan[part].items() if n}
    return shown


def field_errors(page: str, field_id: str) -> list[str]:
    """The messages shown inside the `.field` block holding the input `field_id`."""
    start = page.index(f'id="{field_id}"')
    block_start = page.rindex('<div class="field', 0, start)
    block_end = page.find('<div class="field', start)
    block = page[block_start : block_end if block_end != -1 else None]
    return re.findall(r'<p class="field-error" role="alert">([^<]+)</p>', block)


def preview(client, form: dict):
    return client.post(COMPOSE, {**form, "action": "preview"})


def send_fields(response) -> dict[str, str]:
    """What a preview gives its Send: the digest of the body it showed and its one-time key."""
    page = response.content.decode()
    return dict(re.findall(r'<input type="hidden" name="(previewed|once)" value="([^"]+)">', page))


def test_the_preview_shows_what_the_apis_dry_run_answers_for_the_same_body(workspace, reporters, web_client, admin):
    client = web_client(workspace, "editor")
    form = {
        "recipients": [f"group:{reporters.uuid}", "urn:tel:+250788999999"],
        "text_eng": "Hello @contact.name! " + "x" * 150,
        "text_fra": "Bonjour @contact.name 🙂",
    }
    body = {
        "groups": [str(reporters.uuid)],
        "urns": ["tel:+250788999999"],
        "text": {"eng": form["text_eng"], "fra": form["text_fra"]},
        "dry_run": True,
    }

    response = preview(client, form)

    assert response.status_code == 200
    page = response.content.decode()
    plan = api_post(admin, body).json()
    assert figures(page) == api_figures(plan)
    assert plan["left_out"]["blocked"] == 1
    assert plan["excluded"]["no_urn"] == 1
    assert "Hello Ann! " + "x" * 150 in page
    assert "Bonjour Aimée 🙂" in page
    assert Broadcast.objects.count() == 0  # a preview writes nothing


def test_send_creates_the_previewed_broadcast_as_the_api_would(workspace, reporters, web_client):
    client = web_client(workspace, "editor")
    photo = make_media(workspace)
    local = (datetime.now(ZoneInfo("Africa/Kigali")) + timedelta(days=2)).replace(second=0, microsecond=0)
    workspace.timezone = "Africa/Kigali"
    workspace.save()
    form = {
        "recipients": [f"group:{reporters.uuid}"],
        "text_eng": "Clinic opens at 9, @contact.first_name",
        "attachments_eng": [str(photo.uuid)],
        "quick_replies_eng": "Yes\n\nNo\n",
        "send_at": local.strftime("%Y-%m-%dT%H:%M"),
        "repeat": "weekly",
        "window": "custom",
        "window_days": ["mon", "tue", "wed", "thu", "fri"],
        "window_start": "08:00",
        "window_end": "17:00",
    }
    response = client.post(COMPOSE, {**form, "action": "send", **send_fields(preview(client, form))})

    broadcast = Broadcast.objects.get()
    assert response.status_code == 302
    assert response.url in (f"/broadcasts/{broadcast.uuid}/", "/broadcasts/")
    assert broadcast.created_by == client.user
    assert list(broadcast.groups.all()) == [reporters]
    assert broadcast.content.text_by_language() == {"eng": form["text_eng"]}
    assert broadcast.content.quick_replies_by_language()["eng"] == [
        {"type": "text", "text": "Yes"},
        {"type": "text", "text": "No"},
    ]
    assert broadcast.content.attachments_by_language()["eng"] == [photo.attachment]
    assert broadcast.send_window == {
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "08:00",
        "end": "17:00",
        "timezone": "Africa/Kigali",
    }
    assert broadcast.schedule.repeat == "weekly"
    assert broadcast.send_at == local.astimezone(UTC)


def test_send_takes_the_expiry_and_pace_as_the_api_does(workspace, reporters, web_client):
    workspace.timezone = "Africa/Kigali"
    workspace.save()
    client = web_client(workspace, "editor")
    local = (datetime.now(ZoneInfo("Africa/Kigali")) + timedelta(days=1)).replace(second=0, microsecond=0)
    form = {
        "recipients": [f"group:{reporters.uuid}"],
        "text_eng": "Flu shots today",
        "expire_at": local.strftime("%Y-%m-%dT%H:%M"),
        "max_per_second": "5",
    }
    shown = preview(client, form).content.decode()
    assert 'name="expire_at" value="{}"'.format(form["expire_at"]) in shown  # kept as typed for the send
    assert 'name="max_per_second" value="5"' in shown

    response = client.post(COMPOSE, {**form, "action": "send", **send_fields(preview(client, form))})

    broadcast = Broadcast.objects.get()
    assert response.status_code == 302
    assert broadcast.expire_at == local.astimezone(UTC)
    assert broadcast.max_per_second == 5


def test_a_send_of_a_form_changed_since_its_preview_previews_again(workspace, reporters, web_client):
    client = web_client(workspace, "editor")
    form = {"recipients": [f"group:{reporters.uuid}"], "text_eng": "Hello"}
    sent = {**form, "text_eng": "Hello again", "action": "send", **send_fields(preview(client, form))}

    response = client.post(COMPOSE, sent)

    assert response.status_code == 200
    assert "The broadcast changed since its preview" in response.content.decode()
    assert figures(response.content.decode())["recipients"] == "3"
    assert Broadcast.objects.count() == 0


def test_sending_one_preview_twice_makes_one_broadcast(workspace, reporters, web_client):
    client = web_client(workspace, "editor")
    form = {"recipients": [f"group:{reporters.uuid}"], "text_eng": "Hello", "action": "send"}
    keys = send_fields(preview(client, form))

    first = client.post(COMPOSE, {**form, **keys})
    again = client.post(COMPOSE, {**form, **keys})
    keys_of_a_new_preview = send_fields(preview(client, form))
    another = client.post(COMPOSE, {**form, **keys_of_a_new_preview})

    assert first.status_code == again.status_code == another.status_code == 302
    assert again.url == first.url
    assert Broadcast.objects.count() == 2


@pytest.mark.parametrize(
    ("form", "field_id", "api_body", "api_field"),
    [
        (
            {"send_at": "2020-01-31T10:00"},
            "send-at",
            {"send_at": "2020-01-31T10:00:00+00:00"},
            ["send_at"],
        ),
        ({"text_fra": "x" * 4097}, "text-fra", {"text": {"fra": "x" * 4097}}, ["text", "fra"]),
        ({"recipients": ["urn:tel:12"]}, "recipient-search", {"urns": ["tel:12"]}, ["urns", "0"]),
        ({"repeat": "daily", "repeat_until": "2020-01-01"}, "repeat-until", None, ["schedule", "until"]),
        (
            {"window": "custom", "window_days": ["mon"], "window_start": "08:00", "window_end": "08:00"},
            "window-end",
            {"send_window": {"days": ["mon"], "start": "08:00", "end": "08:00"}},
            ["send_window", "end"],
        ),
        (
            {"window": "custom", "window_days": ["mon"], "window_start": "25:00", "window_end": "18:00"},
            "window-start",
            {"send_window": {"days": ["mon"], "start": "25:00", "end": "18:00"}},
            ["send_window", "start"],
        ),
        ({"expire_at": "2020-01-31T10:00"}, "expire-at", {"expire_at": "2020-01-31T10:00:00+00:00"}, ["expire_at"]),
        ({"max_per_second": "0"}, "max-per-second", {"max_per_second": 0}, ["max_per_second"]),
        ({"max_per_second": "fast"}, "max-per-second", {"max_per_second": "fast"}, ["max_per_second"]),
        ({"max_per_second": "10001"}, "max-per-second", {"max_per_second": 10001}, ["max_per_second"]),
    ],
)
def test_an_error_shows_beside_its_field_in_the_apis_words(
    workspace, reporters, web_client, admin, form, field_id, api_body, api_field
):
    client = web_client(workspace, "editor")
    base = {"recipients": [f"group:{reporters.uuid}"], "text_eng": "Hello"}

    response = preview(client, {**base, **form})

    assert response.status_code == 400
    shown = field_errors(response.content.decode(), field_id)
    if api_body is None:
        api_body = {"schedule": {"repeat": "daily", "until": "2020-01-01"}}
    api_answer = api_post(admin, {"groups": [str(reporters.uuid)], "text": "Hello", **api_body, "dry_run": True})
    assert api_answer.status_code == 400
    expected = api_answer.json()
    for key in api_field:
        expected = expected[key]
    assert shown == expected
    assert Broadcast.objects.count() == 0


def test_an_expiry_before_the_start_shows_beside_the_expiry(workspace, reporters, web_client):
    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    form = {
        "recipients": [f"group:{reporters.uuid}"],
        "text_eng": "Hello",
        "send_at": start.strftime("%Y-%m-%dT%H:%M"),
        "expire_at": (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    }
    response = preview(web_client(workspace, "editor"), form)

    assert response.status_code == 400
    assert field_errors(response.content.decode(), "expire-at") == ["Must be after send_at."]
    assert field_errors(response.content.decode(), "send-at") == []


def test_a_rule_about_the_whole_body_shows_above_the_form(workspace, web_client):
    response = preview(web_client(workspace, "editor"), {"text_eng": "Hello"})

    assert response.status_code == 400
    assert re.search(
        r'id="form-errors"><p>Must provide either urns, contacts or groups\.</p>', response.content.decode()
    )


def test_a_flagged_workspace_is_told_so_and_nothing_is_sent(workspace, reporters, web_client):
    workspace.is_flagged = True
    workspace.save()

    response = preview(web_client(workspace, "editor"), {"recipients": [f"group:{reporters.uuid}"], "text_eng": "Hi"})

    assert response.status_code == 400
    assert "Sorry, your workspace is currently flagged." in response.content.decode()


def test_html_in_texts_names_and_fields_stays_text(workspace, web_client):
    gateway_channel(workspace, "http://127.0.0.1:9")
    make_contact(workspace, "<b>Ann</b>", ["tel:+250788000001"])
    ContactField.objects.create(workspace=workspace, key="district", name="<i>District</i>")
    group = make_group(workspace, "<script>alert(1)</script>")
    client = web_client(workspace, "editor")

    page = preview(
        client,
        {"recipients": ["urn:tel:+250788000001", f"group:{group.uuid}"], "text_eng": "<img src=x> @contact.name"},
    ).content.decode()
    found = client.get("/compose/recipients", {"q": "<"}).content.decode()

    assert "<img src=x>" not in page
    assert "&lt;img src=x&gt; &lt;b&gt;Ann&lt;/b&gt;" in page  # the rendered message
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the group's chip
    assert "&lt;i&gt;District&lt;/i&gt;" in page
    assert "<i>District</i>" not in page
    assert "&lt;b&gt;Ann&lt;/b&gt;" in found
    assert "<b>Ann</b>" not in found


def test_agents_can_not_compose(workspace, web_client):
    client = web_client(workspace, "agent")

    assert client.get(COMPOSE).status_code == 403
    assert client.get("/compose/recipients", {"q": "a"}).status_code == 403
    assert client.post("/compose/count?lang=eng", {"text_eng": "Hi"}).status_code == 403
    assert client.post(COMPOSE, {"recipients": ["urn:tel:+250788000001"], "text_eng": "Hi"}).status_code == 403
    assert 'href="/compose/"' not in client.get("/broadcasts/").content.decode()
    assert Broadcast.objects.count() == 0


def test_the_compose_link_is_shown_to_those_who_may_send(workspace, web_client):
    assert 'href="/compose/"' in web_client(workspace, "editor").get("/broadcasts/").content.decode()


def test_another_workspaces_group_is_neither_found_nor_usable(workspace, other_workspace, web_client):
    theirs = make_group(other_workspace, "Reporters abroad")
    make_contact(other_workspace, "Rebecca", ["tel:+15555550100"])
    client = web_client(workspace, "editor")

    found = client.get("/compose/recipients", {"q": "re"}).content.decode()
    response = preview(client, {"recipients": [f"group:{theirs.uuid}"], "text_eng": "Hello"})

    assert str(theirs.uuid) not in found
    assert "Rebecca" not in found
    assert "Nothing found" in found
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "recipient-search") == [f"No such object: {theirs.uuid}"]
    assert "Reporters abroad" not in response.content.decode()


def test_the_search_finds_groups_names_numbers_and_typed_urns(workspace, web_client, django_assert_max_num_queries):
    ann = make_contact(workspace, "Ann Mukamana", ["tel:+250788000001"])
    make_contact(workspace, "Annette", ["tel:+250788000002"])
    make_contact(workspace, "Bob", ["tel:+250722000003"])
    make_contact(workspace, "Anna gone", ["tel:+250788000004"], is_active=False)
    make_group(workspace, "Anniversary club")
    client = web_client(workspace, "editor")

    def labels(query: str) -> list[str]:
        page = client.get("/compose/recipients", {"q": query}).content.decode()
        return re.findall(r'data-value="([^"]+)" data-label="([^"]*)"', page)

    with django_assert_max_num_queries(6):  # the session, the membership, groups, contacts, their URNs
        by_name = labels("ann")
    assert [label for _, label in by_name] == ["Anniversary club", "Ann Mukamana", "Annette"]
    assert by_name[1] == (f"contact:{ann.uuid}", "Ann Mukamana")
    assert [label for _, label in labels("+25078800")] == ["Ann Mukamana", "Annette"]
    assert [label for _, label in labels("0788 000 001")] == ["tel:+250788000001", "Ann Mukamana"]
    assert labels("tel:+250788123456") == [("urn:tel:+250788123456", "tel:+250788123456")]
    assert labels("zzz") == []


def test_an_anonymous_workspace_is_not_searched_by_urn_and_shows_none(workspace, web_client):
    workspace.is_anonymous = True
    workspace.save()
    make_contact(workspace, "Ann", ["tel:+250788000001"])
    client = web_client(workspace, "editor")

    by_number = client.get("/compose/recipients", {"q": "+2507880000"}).content.decode()
    by_name = client.get("/compose/recipients", {"q": "ann"}).content.decode()

    assert "Ann" not in by_number
    assert 'data-label="Ann"' in by_name
    assert "+250788000001" not in by_name


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Hello", "5 characters, 1 SMS segment (GSM-7)"),
        ("x" * 161, "161 characters, 2 SMS segments (GSM-7)"),
        ("Bonjour 🙂 ", "9 characters, 1 SMS segment (UCS-2)"),
        ("", "0 characters, 1 SMS segment (GSM-7)"),
    ],
)
def test_the_counter_counts_as_the_fan_out_does(workspace, web_client, text, shown):
    response = web_client(workspace, "editor").post("/compose/count?lang=fra", {"text_fra": text})

    assert response.content.decode().strip() == shown


def test_at_offers_the_contact_the_workspaces_fields_and_globals(workspace, web_client):
    ContactField.objects.create(workspace=workspace, key="district", name="District")
    workspace.globals.create(key="clinic_phone", name="Clinic phone", value="+250788000000")

    page = web_client(workspace, "editor").get(COMPOSE).content.decode()

    offered = re.findall(r'data-expression="([^"]+)"', page)
    assert offered[:2] == ["@contact.name", "@contact.first_name"]
    assert offered[-2:] == ["@fields.district", "@globals.clinic_phone"]


def test_the_form_has_a_text_box_for_each_workspace_language(workspace, web_client):
    page = web_client(workspace, "editor").get(COMPOSE).content.decode()

    assert re.findall(r'<legend>(\w+) <span class="muted">\((\w+)\)', page) == [
        ("English", "eng"),
        ("French", "fra"),
        ("Kinyarwanda", "kin"),
    ]
