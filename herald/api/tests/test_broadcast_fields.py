"""Each field of a broadcast POST on its own: what it accepts, how it normalises, and its exact error messages."""

import uuid

import pytest

from herald.msgs.models import Broadcast
from herald.testing.factories import make_contact, make_group, make_media

URL = "/api/v2/broadcasts.json"
RECIPIENT = {"urns": ["tel:+250788123123"]}


def send(client, **fields) -> Broadcast | dict:
    """POST a broadcast with these fields (plus a recipient and text unless given): the broadcast, or 400 body."""
    body = {"text": "Hi", **RECIPIENT, **fields}
    response = client.post(URL, body, format="json")
    if response.status_code == 201:
        return Broadcast.objects.get(uuid=response.json()["uuid"])
    assert response.status_code == 400, response.content
    assert not Broadcast.objects.exists()
    return response.json()


# text


def test_text_string_goes_to_primary_language(admin):
    assert send(admin, text="Hello").translations == {"eng": {"text": "Hello"}}


def test_text_numbers_are_strings(admin):
    assert send(admin, text={"eng": 123}).translations == {"eng": {"text": "123"}}


def test_text_max_length_respected(admin):
    assert send(admin, text="x" * 4096).translations == {"eng": {"text": "x" * 4096}}


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        ({"eng": ""}, {"eng": ["This field may not be blank."]}),
        ("", {"eng": ["This field may not be blank."]}),
        ("  ", {"eng": ["This field may not be blank."]}),
        ({"eng": "  "}, {"eng": ["This field may not be blank."]}),
        (123, ['Expected a dictionary of items but got type "int".']),
        (None, ["This field may not be null."]),
        ({}, ["This dictionary may not be empty."]),
        ({"base": "Hello"}, {"base": ["Not an allowed ISO 639-3 language code."]}),
        ({"swh": "Jambo"}, {"swh": ["Not an allowed ISO 639-3 language code."]}),
        ({"eng": "x" * 4097}, {"eng": ["Ensure this field has no more than 4096 characters."]}),
        ({"eng": None}, {"eng": ["This field may not be null."]}),
        ({"eng": True}, {"eng": ["Not a valid string."]}),
        (["Hello"], {"eng": ["Not a valid string."]}),
        ({"eng": "a\x00b"}, {"eng": ["Null characters are not allowed."]}),
        # A bad value is reported before a bad key; other keys are still checked.
        ({"eng": "", "base": "Hi"},
         {"eng": ["This field may not be blank."], "base": ["Not an allowed ISO 639-3 language code."]}),
    ],
)  # fmt: skip
def test_text_rejects(admin, text, errors):
    assert send(admin, text=text) == {"text": errors}


def test_text_language_limit(admin):
    languages = ["eng", "fra", "kin", "spa", "swa", "ara", "zho", "deu", "ita", "por", "rus", "jpn", "kor", "hin",
                 "ben", "tur", "vie", "pol", "nld", "ell", "ces", "swe", "hun", "fin", "dan", "nor", "heb", "tha",
                 "ind", "msa", "ukr", "ron", "bul", "hrv", "srp", "slk", "slv", "lit", "lav", "est", "kat", "hye",
                 "aze", "kaz", "uzb", "fas", "urd", "tam", "tel", "mar", "guj"]  # fmt: skip
    assert len(languages) == 51
    assert send(admin, text={lang: "Hi" for lang in languages}) == {
        "text": ["Ensure this field has no more than 50 elements."]
    }
    assert send(admin, text={lang: "Hi" for lang in languages[:50]}).base_language == "eng"


# attachments


@pytest.fixture
def image(workspace):
    return make_media(workspace)


def test_attachment_by_uuid_in_any_spelling(admin, image):
    for spelling in (str(image.uuid), str(image.uuid).upper(), f"{{{image.uuid}}}", image.uuid.hex):
        broadcast = send(admin, attachments={"eng": [spelling]})
        assert broadcast.translations["eng"]["attachments"] == [f"image/jpeg:{image.url}"]
        broadcast.delete()


def test_attachment_by_type_and_url_uses_the_media_record(admin, image):
    # The GET form re-posts as is; another type or host in the string is ignored: only the UUID counts.
    for value in (image.attachment, f"video/mp4:http://example.com/{image.uuid}.mp4", f"geo:x/{image.uuid}"):
        broadcast = send(admin, attachments=[value])
        assert broadcast.translations["eng"]["attachments"] == [image.attachment]
        broadcast.delete()


def test_attachments_default_language_follows_workspace(admin, workspace, image):
    workspace.languages = ["kin", "eng"]
    workspace.save()
    broadcast = send(admin, text={"kin": "Muraho"}, attachments=[str(image.uuid)])
    assert broadcast.translations == {"kin": {"text": "Muraho", "attachments": [image.attachment]}}


def test_attachments_ten_per_language(admin, workspace, image):
    media = [str(make_media(workspace).uuid) for _ in range(10)]
    assert len(send(admin, attachments={"eng": media}).translations["eng"]["attachments"]) == 10
    Broadcast.objects.all().delete()
    assert send(admin, attachments={"eng": [*media, str(image.uuid)]}) == {
        "attachments": {"eng": ["Ensure this field has no more than 10 elements."]}
    }


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ({}, ["This dictionary may not be empty."]),
        ({"eng": [""]}, {"eng": ["No such object: "]}),
        ({"eng": [" "]}, {"eng": ["No such object:  "]}),
        ({"eng": ["Hello"]}, {"eng": ["No such object: Hello"]}),
        (["xxxx"], {"eng": ["No such object: xxxx"]}),
        ([123], {"eng": ["No such object: 123"]}),
        ([None], {"eng": ["Must be a string or integer"]}),
        ({"eng": None}, {"eng": ["This field may not be null."]}),
        ({"kin": "image/jpeg:http://x/a.jpg"}, {"kin": ['Expected a list of items but got type "str".']}),
        ("image/jpeg:http://x/a.jpg", {"eng": ['Expected a list of items but got type "str".']}),
        (12, ['Expected a dictionary of items but got type "int".']),
        # No type prefix, or no media UUID in the URL.
        (["http://example.com/a.jpg"], {"eng": ["No such object: http://example.com/a.jpg"]}),
        (["image/jpeg:http://example.com/a.jpg"], {"eng": ["No such object: image/jpeg:http://example.com/a.jpg"]}),
        ([str(uuid.uuid4())], None),  # filled in below: an unknown UUID
    ],
)
def test_attachments_reject(admin, value, errors):
    if errors is None:
        errors = {"eng": [f"No such object: {value[0]}"]}
    assert send(admin, attachments=value) == {"attachments": errors}


def test_attachments_bad_language_key(admin, image):
    assert send(admin, attachments={"base": [str(image.uuid)]}) == {
        "attachments": {"base": ["Not an allowed ISO 639-3 language code."]}
    }


def test_attachment_uuid_inside_url_must_be_canonical_lowercase(admin, image):
    value = f"image/jpeg:http://example.com/{str(image.uuid).upper()}.jpg"
    assert send(admin, attachments=[value]) == {"attachments": {"eng": [f"No such object: {value}"]}}


# quick_replies


@pytest.mark.parametrize(
    ("item", "stored"),
    [
        ({"text": "Red"}, {"type": "text", "text": "Red"}),
        ({"text": "Red", "extra": "Like blood"}, {"type": "text", "text": "Red", "extra": "Like blood"}),
        ({"type": "location"}, {"type": "location"}),
        ({"type": "location", "text": None}, {"type": "location", "text": None}),
        ({"type": "form", "text": "Book now", "extra": "123456"},
         {"type": "form", "text": "Book now", "extra": "123456"}),
        ({"type": "url", "text": "Create Quotation", "extra": "https://example.com/quote"},
         {"type": "url", "text": "Create Quotation", "extra": "https://example.com/quote"}),
        ({"text": "Red", "extra": "x" * 1000}, {"type": "text", "text": "Red", "extra": "x" * 1000}),
        ({"text": "x" * 64, "color": "red"}, {"type": "text", "text": "x" * 64}),
    ],
)  # fmt: skip
def test_quick_reply_accepted_and_normalised(admin, item, stored):
    broadcast = send(admin, quick_replies=[item])
    assert broadcast.translations == {"eng": {"text": "Hi", "quick_replies": [stored]}}


def test_ten_quick_replies_per_language(admin):
    replies = [{"text": str(i)} for i in range(10)]
    assert len(send(admin, quick_replies={"eng": replies}).translations["eng"]["quick_replies"]) == 10
    Broadcast.objects.all().delete()
    assert send(admin, quick_replies={"eng": [*replies, {"text": "11"}]}) == {
        "quick_replies": {"eng": ["Ensure this field has no more than 10 elements."]}
    }


NOT_AN_OBJECT = ['Must be an object, e.g. {"text": "Yes"}.']


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ({"eng": ""}, {"eng": ['Expected a list of items but got type "str".']}),
        ("", ['Expected a dictionary of items but got type "str".']),
        ("  ", ['Expected a dictionary of items but got type "str".']),
        (123, ['Expected a dictionary of items but got type "int".']),
        ({}, ["This dictionary may not be empty."]),
        ({"eng": {"foo": "bar"}}, {"eng": ['Expected a list of items but got type "dict".']}),
        ({"base": [{"text": "Yes"}]}, {"base": ["Not an allowed ISO 639-3 language code."]}),
        ([{"text": "x" * 65}], {"eng": {"0": {"text": ["Ensure this field has no more than 64 characters."]}}}),
        ([{"text": "Red", "extra": "x" * 1001}],
         {"eng": {"0": {"extra": ["Ensure this field has no more than 1000 characters."]}}}),
        ([{"foo": "??"}], {"eng": {"0": ["Quick replies of type 'text' require a 'text' value."]}}),
        ([{"type": "text"}], {"eng": {"0": ["Quick replies of type 'text' require a 'text' value."]}}),
        ([{"text": {}}], {"eng": {"0": ["Quick replies of type 'text' require a 'text' value."]}}),
        ([{"text": {"a": 1}}], {"eng": {"0": {"text": ["Not a valid string."]}}}),
        ([{"text": "  "}], {"eng": {"0": {"text": ["This field may not be blank."]}}}),
        ([{"type": "form", "text": "Book now"}],
         {"eng": {"0": ["Quick replies of type 'form' require 'text' and 'extra' values."]}}),
        ([{"type": "url", "extra": "https://example.com"}],
         {"eng": {"0": ["Quick replies of type 'url' require 'text' and 'extra' values."]}}),
        ([{"type": "location", "extra": "x"}],
         {"eng": {"0": ["Quick replies of type 'location' cannot have an 'extra' value."]}}),
        ([{"type": "button", "text": "Go"}], {"eng": {"0": {"type": ['"button" is not a valid choice.']}}}),
        # RapidPro answers these with a 500 (docs/COMPATIBILITY.md, C1).
        (["Yes", "No"], {"eng": {"0": NOT_AN_OBJECT, "1": NOT_AN_OBJECT}}),
        ([{"text": "Yes"}, None], {"eng": {"1": NOT_AN_OBJECT}}),
        ([7], {"eng": {"0": NOT_AN_OBJECT}}),
        ({"eng": [["Yes"]]}, {"eng": {"0": NOT_AN_OBJECT}}),
    ],
)  # fmt: skip
def test_quick_replies_reject(admin, value, errors):
    assert send(admin, quick_replies=value) == {"quick_replies": errors}


# base_language (LanguageField)


@pytest.mark.parametrize("code", ["eng", "kin", "mul"])
def test_base_language_accepts(admin, code):
    assert send(admin, text={code: "Hi"}, base_language=code).base_language == code


@pytest.mark.parametrize(
    ("code", "errors"),
    [
        ("123", ["Not an allowed ISO 639-3 language code."]),
        ("base", ["Ensure this field has no more than 3 characters.", "Not an allowed ISO 639-3 language code."]),
        ("english", ["Ensure this field has no more than 3 characters.", "Not an allowed ISO 639-3 language code."]),
        ("cmn", ["Not an allowed ISO 639-3 language code."]),
        (None, ["This field may not be null."]),
    ],
)
def test_base_language_rejects(admin, code, errors):
    assert send(admin, base_language=code) == {"base_language": errors}


# urns (URNField)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("tel:+1-800-123-4567", "tel:+18001234567"),
        ("tel:0788 123 123", "tel:+250788123123"),  # the workspace is in Rwanda
        ("tel:(078) 812-3123", "tel:+250788123123"),
        ("twitter:@Jack", "twitter:jack"),
        ("mailto:Joe@Example.com", "mailto:joe@example.com"),
        ("whatsapp:250788123123", "whatsapp:250788123123"),
        ("ext:Some-ID#Joe", "ext:Some-ID#Joe"),
    ],
)
def test_urns_normalised(admin, given, stored):
    assert send(admin, urns=[given]).urns == [stored]


@pytest.mark.parametrize(
    ("urns", "errors"),
    [
        (["foo:bar"], {"0": ["Invalid URN: foo:bar. Ensure phone numbers contain country codes."]}),
        (["12345"], {"0": ["Invalid URN: 12345. Ensure phone numbers contain country codes."]}),
        (["tel:800-123-4567"], {"0": ["Invalid URN: tel:800-123-4567. Ensure phone numbers contain country codes."]}),
        (["TEL:+250788123123"], {"0": ["Invalid URN: TEL:+250788123123. Ensure phone numbers contain country codes."]}),
        ([18001234567], {"0": ["Invalid URN: 18001234567. Ensure phone numbers contain country codes."]}),
        (["tel:+250788123123", "bad"], {"1": ["Invalid URN: bad. Ensure phone numbers contain country codes."]}),
        ([""], {"0": ["This field may not be blank."]}),
        ([None], {"0": ["This field may not be null."]}),
        (["ext:" + "x" * 300], {"0": ["Ensure this field has no more than 255 characters."]}),
        ("tel:+250788123123", ['Expected a list of items but got type "str".']),
        (None, ["This field may not be null."]),
    ],
)
def test_urns_reject(admin, urns, errors):
    assert send(admin, urns=urns) == {"urns": errors}


def test_urns_limit(admin):
    urns = [f"ext:{i}" for i in range(101)]
    assert send(admin, urns=urns) == {"urns": ["Ensure this field has no more than 100 elements."]}
    assert len(send(admin, urns=urns[:100]).urns) == 100


# contacts (ContactField)


def test_contacts_by_uuid_and_by_urn(admin, workspace):
    joe = make_contact(workspace, "Joe", ["tel:+250788123123"])
    ann = make_contact(workspace, "Ann", ["twitter:ann"])
    broadcast = send(admin, contacts=["tel:+250788123123", str(ann.uuid)])
    assert set(broadcast.contacts.all()) == {joe, ann}


# docs/COMPATIBILITY.md, C12.
@pytest.mark.parametrize(
    "reference",
    [
        "tel:+250788123123",  # Joe's
        "tel:0788123123",  # Joe's, spelled locally
        "tel:+250788999999",  # nobody's
        "twitter:joe",  # nobody's, another scheme
        "tel:not-a-number",  # not even a URN
    ],
)
def test_contacts_by_urn_refused_in_anonymous_workspace_known_or_not(admin, workspace, reference):
    # Resolving it would tell a known number from an unknown one without sending anything: one answer for all.
    workspace.is_anonymous = True
    workspace.save()
    joe = make_contact(workspace, "Joe", ["tel:+250788123123"])
    answer = send(admin, urns=[], contacts=[str(joe.uuid), reference])
    assert answer == {"contacts": ["URN lookups not allowed for anonymous organizations"]}
    # Only the URN reference is refused: by UUID the same contact is still found.
    assert list(send(admin, urns=[], contacts=[str(joe.uuid)]).contacts.all()) == [joe]


def test_contacts_any_status(admin, workspace):
    blocked = make_contact(workspace, "Blocked", status="B")
    assert list(send(admin, contacts=[str(blocked.uuid)]).contacts.all()) == [blocked]


@pytest.mark.parametrize(
    ("contacts", "errors"),
    [
        ([0], ["No such object: 0"]),
        (["abcde"], ["No such object: abcde"]),
        ([["a", "b"]], ["Must be a string or integer"]),
        ([None], ["Must be a string or integer"]),
        ([{"uuid": "x"}], ["Must be a string or integer"]),
        (None, ["This field may not be null."]),
        ("abc", ['Expected a list of items but got type "str".']),
        ([str(uuid.uuid4())] * 101, ["Ensure this field has no more than 100 elements."]),
    ],
)
def test_contacts_reject(admin, contacts, errors):
    assert send(admin, contacts=contacts) == {"contacts": errors}


def test_contacts_first_unknown_reported(admin, workspace):
    joe = make_contact(workspace, "Joe")
    assert send(admin, contacts=[str(joe.uuid), "nope", "nada"]) == {"contacts": ["No such object: nope"]}


def test_contacts_representation(admin, workspace):
    joe = make_contact(workspace, "Joe")
    response = admin.post(URL, {"text": "Hi", "contacts": [str(joe.uuid)]}, format="json")
    assert response.json()["contacts"] == [{"uuid": str(joe.uuid), "name": "Joe"}]


# groups (ContactGroupField)


def test_groups_by_uuid_or_name_any_case(admin, workspace):
    reporters, farmers = make_group(workspace, "Reporters"), make_group(workspace, "Farmers")
    broadcast = send(admin, groups=["rePORTers", str(farmers.uuid)])
    assert set(broadcast.groups.all()) == {reporters, farmers}


@pytest.mark.parametrize(
    ("groups", "errors"),
    [
        ([123456], ["No such object: 123456"]),
        (["Nobody"], ["No such object: Nobody"]),
        ([None], ["Must be a string or integer"]),
        ([f"G{i}" for i in range(101)], ["Ensure this field has no more than 100 elements."]),
    ],
)
def test_groups_reject(admin, groups, errors):
    assert send(admin, groups=groups) == {"groups": errors}


# MediaField on its own: by UUID, and nothing else that isn't a media reference


def test_media_reference(admin, workspace):
    media = make_media(workspace, "doc.pdf", "application/pdf")
    assert send(admin, attachments=[str(media.uuid)]).translations["eng"]["attachments"] == [media.attachment]
    Broadcast.objects.all().delete()
    assert send(admin, attachments=["xyz"]) == {"attachments": {"eng": ["No such object: xyz"]}}
    assert send(admin, attachments=[123]) == {"attachments": {"eng": ["No such object: 123"]}}
