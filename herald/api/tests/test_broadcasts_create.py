"""POST /api/v2/broadcasts.json: the rules about the whole body, what is stored, and the 201 answer."""

import pytest

from herald.api.v2.base import BLOCKER_FLAGGED, BLOCKER_SUSPENDED
from herald.msgs.models import Broadcast, BroadcastStatus
from herald.testing.factories import make_contact, make_group, make_media
from herald.testing.fixtures import poster

URL = "/api/v2/broadcasts.json"
post = poster(URL)


@pytest.fixture
def joe(workspace):
    return make_contact(workspace, "Joe", ["tel:+250788123123"])


def assert_400(response, body):
    assert response.status_code == 400, response.content
    assert response.json() == body
    assert not Broadcast.objects.exists()  # nothing half-written


def created(response) -> Broadcast:
    assert response.status_code == 201, response.content
    return Broadcast.objects.get(uuid=response.json()["uuid"])


# Rules about the whole body


def test_empty_body_needs_content(admin):
    assert_400(post(admin, {}), {"non_field_errors": ["Must provide either text or attachments."]})


# docs/COMPATIBILITY.md, C4: RapidPro accepts it and sends nothing.
def test_empty_attachments_are_no_content(admin, joe):
    body = {"attachments": {"eng": []}, "contacts": [str(joe.uuid)]}
    assert_400(post(admin, body), {"non_field_errors": ["Must provide either text or attachments."]})
    body = {"attachments": [], "contacts": [str(joe.uuid)]}
    assert_400(post(admin, body), {"non_field_errors": ["Must provide either text or attachments."]})


def test_text_needs_recipients(admin):
    assert_400(post(admin, {"text": "Hello"}), {"non_field_errors": ["Must provide either urns, contacts or groups."]})
    body = {"text": "Hello", "urns": [], "contacts": [], "groups": []}
    assert_400(post(admin, body), {"non_field_errors": ["Must provide either urns, contacts or groups."]})


def test_rules_only_once_fields_are_valid(admin):
    assert_400(post(admin, {"text": "Hello", "groups": [123456]}), {"groups": ["No such object: 123456"]})


def test_only_first_failing_rule_is_reported(admin):
    assert_400(
        post(admin, {"base_language": "eng"}), {"non_field_errors": ["Must provide either text or attachments."]}
    )


def test_base_language_must_have_text(admin, joe):
    body = {"text": {"kin": "Muraho"}, "base_language": "eng", "contacts": [str(joe.uuid)]}
    assert_400(post(admin, body), {"non_field_errors": ["No text translation provided in base language."]})


def test_base_language_must_have_attachments(admin, workspace, joe):
    media = make_media(workspace)
    body = {
        "text": {"eng": "Hello"},
        "attachments": {"spa": [str(media.uuid)]},
        "base_language": "eng",
        "contacts": [str(joe.uuid)],
    }
    assert_400(post(admin, body), {"non_field_errors": ["No attachment translations provided in base language."]})


def test_base_language_must_have_quick_replies(admin, joe):
    body = {
        "text": {"eng": "Hello"},
        "quick_replies": {"spa": [{"text": "Si"}]},
        "base_language": "eng",
        "contacts": [str(joe.uuid)],
    }
    assert_400(post(admin, body), {"non_field_errors": ["No quick_replies translations provided in base language."]})


# docs/COMPATIBILITY.md, C1: RapidPro answers this with a 500.
def test_base_language_without_text_is_checked_not_a_crash(admin, workspace, joe):
    media = make_media(workspace)
    body = {"attachments": {"spa": [str(media.uuid)]}, "base_language": "eng", "contacts": [str(joe.uuid)]}
    assert_400(post(admin, body), {"non_field_errors": ["No attachment translations provided in base language."]})

    # Attachments only, with the base language among them, is a valid broadcast.
    body["base_language"] = "spa"
    broadcast = created(post(admin, body))
    assert broadcast.base_language == "spa"
    assert broadcast.translations == {"spa": {"attachments": [media.attachment]}}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"is_flagged": True}, BLOCKER_FLAGGED),
        ({"is_suspended": True}, BLOCKER_SUSPENDED),
        ({"is_flagged": True, "is_suspended": True}, BLOCKER_FLAGGED),
    ],
)
def test_blocked_workspace_refuses_whatever_the_body(admin, workspace, flags, message):
    for name, value in flags.items():
        setattr(workspace, name, value)
    workspace.save()
    assert_400(post(admin, {}), {"non_field_errors": [message]})
    assert message.startswith("Sorry, your workspace is currently ")


@pytest.mark.parametrize("body", ["[]", '"hello"', "null", "3"])
def test_body_must_be_an_object(admin, body):
    response = admin.post(URL, body, content_type="application/json")
    assert_400(response, {"non_field_errors": ["Request body should be a single JSON object"]})


def test_malformed_json(admin):
    response = admin.post(URL, "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")


def test_field_errors_are_reported_together(admin):
    body = {"text": {"eng": ""}, "urns": ["foo:bar"], "contacts": ["abcde"], "base_language": "english"}
    assert_400(
        post(admin, body),
        {
            "text": {"eng": ["This field may not be blank."]},
            "urns": {"0": ["Invalid URN: foo:bar. Ensure phone numbers contain country codes."]},
            "contacts": ["No such object: abcde"],
            "base_language": [
                "Ensure this field has no more than 3 characters.",
                "Not an allowed ISO 639-3 language code.",
            ],
        },
    )


# What is stored


def test_full_payload(admin, workspace, editor):
    image, video = make_media(workspace), make_media(workspace, "clip.mp4", "video/mp4")
    joe, frank = make_contact(workspace, "Joe"), make_contact(workspace, "Frank")
    reporters = make_group(workspace, "Reporters")
    body = {
        "text": {"eng": "Hello @contact.name", "spa": "Hola @contact.name"},
        "attachments": {
            "eng": [str(image.uuid), f"video/mp4:http://example.com/{video.uuid}.mp4"],
            "kin": [str(video.uuid)],
        },
        "quick_replies": {
            "eng": [{"text": "Red"}, {"text": "Green", "extra": "Like grass"}, {"text": "Blue"}],
            "fra": [{"text": "Rouge"}],
        },
        "base_language": "eng",
        "urns": ["facebook:12345"],
        "contacts": [str(joe.uuid), str(frank.uuid)],
        "groups": [str(reporters.uuid)],
    }
    broadcast = created(post(admin, body))
    assert broadcast.translations == {
        "eng": {
            "text": "Hello @contact.name",
            "attachments": [f"image/jpeg:{image.url}", f"video/mp4:{video.url}"],
            "quick_replies": [
                {"type": "text", "text": "Red"},
                {"type": "text", "text": "Green", "extra": "Like grass"},
                {"type": "text", "text": "Blue"},
            ],
        },
        "spa": {"text": "Hola @contact.name"},
        "kin": {"attachments": [f"video/mp4:{video.url}"]},
        "fra": {"quick_replies": [{"type": "text", "text": "Rouge"}]},
    }
    assert list(broadcast.translations) == ["eng", "fra", "kin", "spa"]  # sorted, as jsonb keeps them
    assert broadcast.base_language == "eng"
    assert broadcast.urns == ["facebook:12345"]
    assert set(broadcast.contacts.all()) == {joe, frank}
    assert list(broadcast.groups.all()) == [reporters]
    assert broadcast.status == BroadcastStatus.PENDING
    assert broadcast.contact_count is None
    assert broadcast.msg_count == 0
    assert broadcast.created_by.email == f"admin-{workspace.pk}@example.com"

    # Editors may send too.
    assert post(editor, body).status_code == 201


def test_bare_values_go_to_the_primary_language(admin, workspace, joe):
    workspace.languages = ["spa", "kin"]
    workspace.save()
    media = make_media(workspace)
    broadcast = created(post(admin, {"text": "Hola", "attachments": [str(media.uuid)], "contacts": [str(joe.uuid)]}))
    assert broadcast.translations == {"spa": {"text": "Hola", "attachments": [media.attachment]}}
    assert broadcast.base_language == "spa"


def test_text_only(admin, joe):
    broadcast = created(post(admin, {"text": "Hello", "contacts": [str(joe.uuid)]}))
    assert broadcast.translations == {"eng": {"text": "Hello"}}
    assert broadcast.base_language == "eng"


def test_attachments_only(admin, workspace, joe):
    image, video = make_media(workspace), make_media(workspace, "v.mp4", "video/mp4")
    body = {"attachments": [str(image.uuid), str(video.uuid)], "contacts": [str(joe.uuid)]}
    broadcast = created(post(admin, body))
    assert broadcast.translations == {"eng": {"attachments": [image.attachment, video.attachment]}}


def test_default_base_language_is_first_text_language(admin, joe):
    body = {
        "text": {"kin": "Muraho", "eng": "Hello"},
        "quick_replies": {"fra": [{"text": "Oui"}]},
        "urns": ["tel:+250788123123"],
    }
    assert created(post(admin, body)).base_language == "kin"


# docs/COMPATIBILITY.md, C5.
def test_default_base_language_skips_languages_with_no_content(admin, workspace, joe):
    media = make_media(workspace)
    body = {"attachments": {"eng": [], "fra": [str(media.uuid)]}, "contacts": [str(joe.uuid)]}
    broadcast = created(post(admin, body))
    assert broadcast.base_language == "fra"
    assert broadcast.translations == {"eng": {"attachments": []}, "fra": {"attachments": [media.attachment]}}


def test_base_language_need_not_be_a_workspace_language(admin, joe):
    body = {"text": {"swa": "Jambo"}, "base_language": "swa", "contacts": [str(joe.uuid)]}
    assert created(post(admin, body)).base_language == "swa"


def test_expressions_stored_verbatim_and_text_trimmed(admin, joe):
    broadcast = created(post(admin, {"text": "  Hi @contact.name!  ", "contacts": [str(joe.uuid)]}))
    assert broadcast.translations == {"eng": {"text": "Hi @contact.name!"}}


# docs/COMPATIBILITY.md, C3.
def test_duplicate_recipients_are_merged(admin, workspace, joe):
    group = make_group(workspace, "Reporters")
    body = {
        "text": "Hi",
        "urns": ["tel:0788 123 123", "tel:+250788123123", "tel:(078) 812-3123", "twitter:@Bob", "twitter:bob"],
        "contacts": [str(joe.uuid), "tel:+250788123123", str(joe.uuid)],
        "groups": [str(group.uuid), "reporters", "REPORTERS"],
    }
    broadcast = created(post(admin, body))
    assert broadcast.urns == ["tel:+250788123123", "twitter:bob"]
    assert list(broadcast.contacts.all()) == [joe]
    assert list(broadcast.groups.all()) == [group]
    assert response_list(admin, broadcast)["urns"] == ["tel:+250788123123", "twitter:bob"]


def response_list(client, broadcast):
    return client.get(URL, {"uuid": str(broadcast.uuid)}).json()["results"][0]


def test_created_response_is_the_get_representation(admin, workspace, joe):
    media = make_media(workspace)
    body = {
        "text": {"eng": "Hello", "fra": "Bonjour"},
        "attachments": {"eng": [str(media.uuid)]},
        "quick_replies": {"eng": [{"text": "Yes"}]},
        "urns": ["tel:+250788123124"],
        "contacts": [str(joe.uuid)],
        "groups": [str(make_group(workspace, "Reporters").uuid)],
    }
    response = post(admin, body)
    broadcast = created(response)
    assert response.json() == response_list(admin, broadcast)
    assert response.json()["id"] == broadcast.id
    assert response.json()["status"] == "pending"
    assert response.json()["progress"] == {"total": -1, "started": 0}
    assert response.json()["attachments"] == {"eng": [media.attachment], "fra": []}
    assert response.json()["text"] == {"eng": "Hello", "fra": "Bonjour"}


def test_anonymous_workspace_accepts_urns_but_hides_them(admin, workspace):
    workspace.is_anonymous = True
    workspace.save()
    response = post(admin, {"text": "Hi", "urns": ["tel:+250788123123"]})
    assert created(response).urns == ["tel:+250788123123"]
    assert response.json()["urns"] is None


@pytest.mark.parametrize("spelling", ["tel:+250788{}", "tel:0788{}", "tel:0788 {}"])
def test_anonymous_workspace_answers_urns_the_same_known_or_not(admin, workspace, joe, spelling):
    # Sending to a number is allowed, but nothing in the answer may tell whether a contact has that number.
    workspace.is_anonymous = True
    workspace.save()

    def answers(number: str) -> list[dict]:
        body = {"text": "Hi @contact.urn", "urns": [spelling.format(number)]}
        response = post(admin, body)
        broadcast = created(response)
        listed = admin.get(f"{URL}?uuid={broadcast.uuid}").json()["results"][0]
        volatile = ("uuid", "id", "created_on")
        return [{k: v for k, v in answer.items() if k not in volatile} for answer in (response.json(), listed)]

    assert answers("123123") == answers("999999")  # Joe's number, then nobody's
    assert answers("123123")[0]["urns"] is None


# POST with ?uuid=


# docs/COMPATIBILITY.md, C8: RapidPro creates a copy.
def test_post_with_existing_uuid_does_not_copy(admin, joe):
    broadcast = created(post(admin, {"text": "Hello", "contacts": [str(joe.uuid)]}))
    response = admin.post(f"{URL}?uuid={broadcast.uuid}", {"text": "Again", "contacts": [str(joe.uuid)]}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Broadcasts can't be changed once created: POST without ?uuid= to create a new one."
    }
    assert Broadcast.objects.count() == 1


def test_post_with_unknown_or_invalid_uuid(admin, other_workspace, joe):
    theirs = Broadcast.objects.create(workspace=other_workspace, translations={"eng": {"text": "x"}})
    body = {"text": "Hello", "contacts": [str(joe.uuid)]}
    response = admin.post(f"{URL}?uuid={theirs.uuid}", body, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    response = admin.post(f"{URL}?uuid=xyz", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": "Param 'uuid': xyz is not a valid UUID."}
    assert Broadcast.objects.count() == 1


# Workspace isolation


def test_other_workspace_objects_are_no_such_object(admin, other_workspace, joe):
    their_contact = make_contact(other_workspace, "Theirs", ["tel:+12065551212"])
    their_group = make_group(other_workspace, "Their group")
    their_media = make_media(other_workspace)
    base = {"text": "Hi", "contacts": [str(joe.uuid)]}
    assert_400(
        post(admin, {**base, "contacts": [str(their_contact.uuid)]}),
        {"contacts": [f"No such object: {their_contact.uuid}"]},
    )
    assert_400(
        post(admin, {**base, "contacts": ["tel:+12065551212"]}), {"contacts": ["No such object: tel:+12065551212"]}
    )
    assert_400(post(admin, {**base, "groups": ["Their group"]}), {"groups": ["No such object: Their group"]})
    assert_400(
        post(admin, {**base, "groups": [str(their_group.uuid)]}), {"groups": [f"No such object: {their_group.uuid}"]}
    )
    assert_400(
        post(admin, {**base, "attachments": [str(their_media.uuid)]}),
        {"attachments": {"eng": [f"No such object: {their_media.uuid}"]}},
    )
    assert_400(
        post(admin, {**base, "attachments": [their_media.attachment]}),
        {"attachments": {"eng": [f"No such object: {their_media.attachment}"]}},
    )


def test_deleted_contacts_and_groups_are_no_such_object(admin, workspace):
    gone = make_contact(workspace, "Gone", is_active=False)
    old = make_group(workspace, "Old", is_active=False)
    assert_400(
        post(admin, {"text": "Hi", "contacts": [str(gone.uuid)]}), {"contacts": [f"No such object: {gone.uuid}"]}
    )
    assert_400(post(admin, {"text": "Hi", "groups": ["Old"]}), {"groups": ["No such object: Old"]})
    assert old.pk


def test_created_response_lists_recipients_as_the_get_does(admin, workspace):
    # Given out of id order, with a duplicate: the 201 (built from the body) and the GET (read back) agree.
    contacts = [make_contact(workspace, name) for name in ("Ann", "Bob", "Cy")]
    groups = [make_group(workspace, name) for name in ("Reporters", "Farmers")]
    body = {
        "text": "Hi",
        "contacts": [str(c.uuid) for c in (contacts[2], contacts[0], contacts[1], contacts[2])],
        "groups": ["farmers", str(groups[0].uuid)],
    }
    response = post(admin, body)
    broadcast = created(response)
    assert response.json() == response_list(admin, broadcast)
    assert [c["name"] for c in response.json()["contacts"]] == ["Ann", "Bob", "Cy"]
    assert [g["name"] for g in response.json()["groups"]] == ["Reporters", "Farmers"]


# The token (with the member's role), the groups named, then in one transaction the broadcast and its group links
# (counted with their BEGIN and COMMIT, or savepoints in a test); the 201 is built from what was written.
CREATE_QUERIES = 6


def test_a_create_takes_at_most_six_queries(admin, workspace, django_assert_max_num_queries):
    group = make_group(workspace, "Reporters")
    body = {"urns": ["tel:+250788123123"], "groups": [str(group.uuid)], "text": {"eng": "Hello @contact.name!"}}
    post(admin, {**body, "urns": ["tel:+250788123124"]})  # the token's `last_used_on` written now, not below
    with django_assert_max_num_queries(CREATE_QUERIES):
        response = post(admin, body)
    assert created(response).groups.get() == group
