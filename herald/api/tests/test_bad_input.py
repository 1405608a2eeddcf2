"""Hostile and malformed requests to every write endpoint: each gets a clear 4xx, and nothing is written.

"Nothing written" is checked by counting the rows of every Herald table (and the files under the media root)
before and after each refused request.
"""

import json
import re
import time
from urllib.parse import quote

import pytest
from django.apps import apps

from herald.contacts.models import Contact, ContactField
from herald.media.tests import samples
from herald.testing.factories import make_contact, make_group

WRITE_ENDPOINTS = ["broadcasts", "contacts", "groups", "fields"]
A_VALID_BODY = {
    "broadcasts": {"urns": ["tel:+250788123123"], "text": "Hello"},
    "contacts": {"name": "Bob", "urns": ["tel:+250788222222"]},
    "groups": {"name": "Customers"},
    "fields": {"name": "Shoe size", "type": "text"},
}
ZERO_UUID = "00000000-0000-0000-0000-000000000000"
TOO_DEEP = {"detail": "JSON parse error - nesting deeper than 32 levels is not allowed"}


def url(endpoint: str) -> str:
    return f"/api/v2/{endpoint}.json"


def herald_tables() -> list:
    labels = {app.label for app in apps.get_app_configs() if app.name.startswith("herald.")}
    return [m for m in apps.get_models(include_auto_created=True) if m._meta.app_label in labels]


@pytest.fixture
def ann(workspace):
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"])
    make_group(workspace, "Reporters", [ann])
    ContactField.objects.create(workspace=workspace, key="nickname", name="Nickname")
    return ann


@pytest.fixture
def unchanged(ann, media_root):
    """unchanged(response, status, body=None): the request was refused as expected and wrote nothing."""

    def state():
        rows = {model._meta.label: model.objects.count() for model in herald_tables()}
        contacts = list(Contact.objects.order_by("id").values_list("name", "language", "modified_on"))
        files = sorted(str(p) for p in media_root.rglob("*")) if media_root.exists() else []
        return rows, contacts, files

    before = state()

    def check(response, status: int, body=None):
        assert response.status_code == status, response.content
        assert response["Content-Type"] == "application/json"
        if body is not None:
            assert response.json() == body
        assert state() == before

    return check


def post_raw(client, endpoint: str, body, content_type="application/json", query=""):
    return client.generic("POST", url(endpoint) + query, body, content_type=content_type)


# -- deeply nested JSON ------------------------------------------------------------------------------------------


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS)
@pytest.mark.parametrize("depth", [33, 5_000, 1_000_000])
def test_deeply_nested_json_is_a_400(admin, unchanged, endpoint, depth):
    unchanged(post_raw(admin, endpoint, nested(depth)), 400, TOO_DEEP)


def test_deep_nesting_inside_a_field_is_a_400_too(admin, unchanged):
    text = '{"a": ' * 40 + '"x"' + "}" * 40
    body = '{"urns": ["tel:+250788123123"], "text": ' + text + "}"
    unchanged(post_raw(admin, "broadcasts", body), 400, TOO_DEEP)


def test_nesting_up_to_the_limit_reaches_the_field_checks(admin, unchanged):
    body = json.dumps({"name": "Bob", "fields": {"nickname": json.loads(nested(30))}})
    unchanged(post_raw(admin, "contacts", body), 400, {"fields": {"nickname": ["Not a valid string."]}})


# -- invalid UTF-8 -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS)
@pytest.mark.parametrize("bad", [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"])
def test_invalid_utf8_in_json_is_a_400(admin, unchanged, endpoint, bad):
    body = json.dumps(A_VALID_BODY[endpoint]).encode().replace(b'"Hello"', b'"He' + bad + b'"')
    body = body.replace(b'"Bob"', b'"B' + bad + b'"').replace(b'"Customers"', b'"C' + bad + b'"')
    body = body.replace(b'"Shoe size"', b'"S' + bad + b'"')
    response = post_raw(admin, endpoint, body)
    unchanged(response, 400)
    assert response.json()["detail"].startswith("JSON parse error - 'utf-8' codec can't decode byte")


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS)
def test_invalid_utf8_in_a_form_is_a_400(admin, unchanged, endpoint):
    response = post_raw(admin, endpoint, b"name=B%FF%FEb&text=Hi", "application/x-www-form-urlencoded")
    unchanged(response, 400)
    assert response.json()["detail"].startswith("Form parse error - 'utf-8' codec can't decode byte")


def test_lone_surrogates_are_a_400(admin, unchanged):
    body = '{"urns": ["tel:+250788123123"], "text": {"eng": "Hi \\ud800"}}'
    unchanged(
        post_raw(admin, "broadcasts", body),
        400,
        {"detail": "JSON parse error - lone surrogate characters are not allowed"},
    )


# -- NUL characters ----------------------------------------------------------------------------------------------

NUL_NOT_ALLOWED = ["Null characters are not allowed."]
NUL_BODIES = [
    ("contacts", {"name": "A\x00B"}, {"name": NUL_NOT_ALLOWED}),
    ("contacts", {"language": "en\x00"}, {"language": NUL_NOT_ALLOWED}),
    ("contacts", {"fields": {"nickname": "x\x00"}}, {"fields": {"nickname": NUL_NOT_ALLOWED}}),
    ("contacts", {"fields": {"nick\x00name": "x"}}, {"fields": ["Invalid contact field key: nick\x00name"]}),
    (
        "contacts",
        {"urns": ["tel:+250788123123\x00"]},
        {"urns": {"0": ["Invalid URN: tel:+250788123123\x00. Ensure phone numbers contain country codes."]}},
    ),
    ("contacts", {"groups": ["Reporters\x00"]}, {"groups": ["No such object: Reporters\x00"]}),
    ("groups", {"name": "A\x00B"}, {"name": NUL_NOT_ALLOWED}),
    ("fields", {"name": "A\x00B", "type": "text"}, {"name": NUL_NOT_ALLOWED}),
    ("broadcasts", {"urns": ["tel:+250788123123"], "text": "hi\x00"}, {"text": {"eng": NUL_NOT_ALLOWED}}),
    (
        "broadcasts",
        {"urns": ["tel:+250788123123"], "text": {"en\x00": "hi"}},
        {"text": {"en\x00": ["Not an allowed ISO 639-3 language code."]}},
    ),
    (
        "broadcasts",
        {"urns": ["tel:+250788123123"], "text": "hi", "quick_replies": [{"text": "Yes\x00"}]},
        {"quick_replies": {"eng": {"0": {"text": NUL_NOT_ALLOWED}}}},
    ),
    (
        "broadcasts",
        {"urns": ["tel:+250788123123"], "text": "hi", "quick_replies": [{"text": "Yes", "extra": "\x00"}]},
        {"quick_replies": {"eng": {"0": {"extra": NUL_NOT_ALLOWED}}}},
    ),
    ("broadcasts", {"groups": ["Reporters\x00"], "text": "hi"}, {"groups": ["No such object: Reporters\x00"]}),
    (
        "broadcasts",
        {"contacts": ["tel:+250788111111\x00"], "text": "hi"},
        {"contacts": ["No such object: tel:+250788111111\x00"]},
    ),
    (
        "broadcasts",
        {"urns": ["tel:+250788123123"], "text": "hi", "attachments": ["x\x00"]},
        {"attachments": {"eng": ["No such object: x\x00"]}},
    ),
]


@pytest.mark.parametrize(("endpoint", "body", "errors"), NUL_BODIES)
def test_nul_characters_in_a_body_are_a_400(admin, unchanged, endpoint, body, errors):
    unchanged(post_raw(admin, endpoint, json.dumps(body)), 400, errors)


def test_nul_characters_in_an_update_change_nothing(admin, unchanged, ann):
    response = post_raw(admin, "contacts", json.dumps({"name": "Ann\x00"}), query=f"?uuid={ann.uuid}")
    unchanged(response, 400, {"name": NUL_NOT_ALLOWED})


@pytest.mark.parametrize(
    ("method", "query", "param"),
    [
        ("GET", "contacts.json?group=Reporters%00", "group"),
        ("GET", "contacts.json?urn=tel:%2B250788111111%00", "urn"),
        ("GET", "groups.json?name=Reporters%00", "name"),
        ("GET", "fields.json?key=nickname%00", "key"),
        ("GET", "broadcasts.json?uuid=%00", "uuid"),
        ("POST", "contacts.json?urn=tel:%2B250788111111%00", "urn"),
        ("DELETE", "groups.json?uuid=%00", "uuid"),
    ],
)
def test_nul_characters_in_the_query_are_a_400(admin, unchanged, method, query, param):
    response = admin.generic(method, f"/api/v2/{query}", "{}", content_type="application/json")
    unchanged(response, 400, {"detail": f"Param '{param}' must not contain NUL characters."})


# -- hostile URNs (issue 8: F1, F13, F17) -----------------------------------------------------------------------

HOSTILE_URNS = [
    "tel:1e999999",  # a spreadsheet number of a million digits: ~26 s of CPU under the GIL
    "tel:1e9999999",  # beyond decimal's exponent range: an uncaught InvalidOperation
    "tel:+2.5e99999999999",
    "ext:a%00b",  # NUL once decoded: PostgreSQL refuses it in a query or a row
    "ext:a%0Ab",  # CR / LF once decoded, or as sent: the console channel would print them raw
    "ext:a%0D%0Ab",
    "ext:a\r\nb",
    "ext:%1B[2Jwiped",  # a terminal escape sequence
    "twitterid:12345#bob%0A",  # in the display
    "mailto:a@b.c%0ABcc:x@y.z",
]


def invalid_urn(value) -> list[str]:
    return [f"Invalid URN: {value}. Ensure phone numbers contain country codes."]


def urn_inputs(value) -> list[tuple[str, str, dict | None, dict]]:
    """Every way a URN reaches the API: (method, path and query, JSON body, the answer's body)."""
    query = "?urn=" + quote(value, safe="")
    return [
        ("POST", "contacts.json", {"urns": [value]}, {"urns": {"0": invalid_urn(value)}}),
        ("POST", "broadcasts.json", {"urns": [value], "text": "hi"}, {"urns": {"0": invalid_urn(value)}}),
        ("POST", "broadcasts.json", {"contacts": [value], "text": "hi"}, {"contacts": [f"No such object: {value}"]}),
        ("GET", "contacts.json" + query, None, {"detail": f"Invalid URN: {value}"}),
        ("POST", "contacts.json" + query, {"name": "Eve"}, {"detail": f"Invalid URN: {value}"}),
        ("DELETE", "contacts.json" + query, None, {"detail": f"Invalid URN: {value}"}),
    ]


@pytest.mark.parametrize(
    ("method", "path", "body", "errors"), [case for value in HOSTILE_URNS for case in urn_inputs(value)], ids=repr
)
def test_hostile_urns_are_a_400_in_every_urn_input(admin, unchanged, method, path, body, errors):
    started = time.monotonic()
    response = admin.generic(method, f"/api/v2/{path}", json.dumps(body or {}), content_type="application/json")
    assert time.monotonic() - started < 5  # not seconds of CPU: refused before any expansion
    unchanged(response, 400, errors)


def test_a_urn_over_255_characters_once_normalised_is_a_400(admin, unchanged):
    too_long = "ext:" + "%25" * 100  # 304 characters as sent, 304 once normalised ("%" is escaped again)
    unchanged(
        post_raw(admin, "contacts", json.dumps({"urns": [too_long]})),
        400,
        {"urns": {"0": ["Ensure this field has no more than 255 characters."]}},
    )
    unchanged(
        post_raw(admin, "contacts", json.dumps({"urns": ["ext:" + "x" * 10_000]})),
        400,
        {"urns": {"0": ["Ensure this field has no more than 255 characters."]}},
    )


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    "path",
    [
        f"/media/{ZERO_UUID}/a%00b.jpg",  # the filename reached a PostgreSQL lookup: a 500
        f"/media/{ZERO_UUID}/a%0D%0Ab.jpg",
        f"/c/ex/{ZERO_UUID}%00/sent",
        "/c/ex/%1B[2J/sent",
        "/api/v2/contacts.json%00",
    ],
)
def test_control_characters_in_a_url_path_are_a_400(client, unchanged, method, path):
    unchanged(
        client.generic(method, path, "id=1", content_type="application/x-www-form-urlencoded"),
        400,
        {"detail": "The URL path must not contain control characters."},
    )


# -- huge numbers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS)
@pytest.mark.parametrize("number", ["1e999", "-1e999", "1E400"])
def test_numbers_too_big_for_a_float_are_a_400(admin, unchanged, endpoint, number):
    body = json.dumps({**A_VALID_BODY[endpoint], "name": "@"}).replace('"@"', number)
    body = body.replace('"Hello"', number)
    unchanged(
        post_raw(admin, endpoint, body),
        400,
        {"detail": f"JSON parse error - Out of range float values are not JSON compliant: '{number}'"},
    )


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS)
def test_integers_too_long_to_read_are_a_400(admin, unchanged, endpoint):
    response = post_raw(admin, endpoint, '{"name": ' + "9" * 5000 + "}")
    unchanged(response, 400)
    assert response.json()["detail"].startswith("JSON parse error - Exceeds the limit (4300 digits)")


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"name": 10**4000}, {"name": ["Ensure this field has no more than 64 characters."]}),
        ({"urns": [10**30]}, {"urns": {"0": [f"Invalid URN: {10**30}. Ensure phone numbers contain country codes."]}}),
        ({"groups": [10**30]}, {"groups": [f"No such object: {10**30}"]}),
        ({"language": 1e300}, {"language": ["Ensure this field has no more than 3 characters."]}),
    ],
)
def test_huge_numbers_where_text_belongs_are_field_errors(admin, unchanged, body, errors):
    unchanged(post_raw(admin, "contacts", json.dumps(body)), 400, errors)


@pytest.mark.parametrize("value", ["9" * 30, "-" + "9" * 30, "1e999"])
def test_huge_ids_in_the_query_are_a_400(admin, unchanged, value):
    unchanged(admin.get(f"/api/v2/broadcasts.json?id={value}"), 400, {"detail": "Value for id must be an integer"})


# -- dates at the edges ------------------------------------------------------------------------------------------


def test_an_offset_postgresql_cannot_hold_is_read_as_the_instant_it_names(admin, workspace, unchanged):
    response = admin.get("/api/v2/contacts.json?before=2000-01-02T23:00:00%2B23:55")
    unchanged(response, 200)
    assert [c["name"] for c in response.json()["results"]] == []


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00%2B01:00", "9999-12-31T23:59:59-01:00"])
def test_dates_beyond_the_calendar_in_utc_are_a_400(admin, unchanged, value):
    response = admin.get(f"/api/v2/broadcasts.json?after={value}")
    unchanged(response, 400)
    assert response.json()["detail"].endswith("is not a valid ISO-8601 datetime, e.g. 2024-01-31T18:00:00.000Z.")


# -- wrong content types -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS)
@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "text/html", "", "application/x-json"])
def test_bodies_that_are_not_json_or_a_form_are_a_415(admin, unchanged, endpoint, content_type):
    response = post_raw(admin, endpoint, json.dumps(A_VALID_BODY[endpoint]), content_type)
    unchanged(response, 415, {"detail": f'Unsupported media type "{content_type}" in request.'})


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS)
def test_multipart_without_a_boundary_is_a_400(admin, unchanged, endpoint):
    response = post_raw(admin, endpoint, json.dumps(A_VALID_BODY[endpoint]), "multipart/form-data")
    unchanged(response, 400, {"detail": "Multipart form parse error - Invalid boundary in multipart: None"})


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS)
@pytest.mark.parametrize("body", ["null", "[]", '"text"', "42", "[{}]"])
def test_json_that_is_not_an_object_is_a_400(admin, unchanged, endpoint, body):
    unchanged(
        post_raw(admin, endpoint, body), 400, {"non_field_errors": ["Request body should be a single JSON object"]}
    )


def test_json_to_media_is_a_415(admin, unchanged):
    unchanged(post_raw(admin, "media", "{}"), 415, {"detail": 'Unsupported media type "application/json" in request.'})


# -- media uploads -----------------------------------------------------------------------------------------------

UNSUPPORTED = {"file": ["Unsupported file type."]}
SAFE_NAME = re.compile(r"^[\w\-\[\]() ]+\.[a-z0-9]+$")


def upload(client, name: str, content: bytes, content_type: str | None):
    body, header = samples.multipart(name, content, content_type)
    return client.generic("POST", url("media"), body, content_type=header)


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/html", samples.HTML),
        ("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("application/octet-stream", samples.JPEG),
        ("application/x-msdownload", b"MZ\x90\x00"),
        ("", samples.JPEG),
        (None, samples.JPEG),
        ("*/*", samples.JPEG),
        ("image/*", samples.JPEG),
        ("image/jpeg\x00", samples.JPEG),
        ("image/jpeg", samples.HTML),  # the bytes aren't what the type says
        ("image/png", samples.JPEG),
        ("application/pdf", b"%!PS-Adobe-3.0"),
    ],
)
def test_uploads_of_a_hostile_or_false_type_are_a_400(admin, unchanged, content_type, content):
    response = upload(admin, "poster.jpg", content, content_type)
    unchanged(response, 400)
    assert response.json() in (UNSUPPORTED, {"file": ["No file was submitted."]})


@pytest.mark.parametrize("name", ["", ".", ".."])
def test_uploads_whose_name_is_nothing_are_a_400(admin, unchanged, name):
    response = upload(admin, name, samples.JPEG, "image/jpeg")
    unchanged(response, 400)
    assert list(response.json()) == ["file"]


def test_an_upload_with_a_huge_name_is_a_400(admin, unchanged):
    response = upload(admin, "a" * 100_000 + ".jpg", samples.JPEG, "image/jpeg")
    unchanged(response, 400, {"detail": "Multipart form parse error - Request max total header size exceeded."})


@pytest.mark.parametrize(
    "name",
    [
        "../../../etc/passwd",
        "..\\..\\windows\\win.ini",
        "/etc/shadow.jpg",
        "x.jpg\x00.exe",
        "\u202egpj.exe",
        "<script>alert(1)</script>.jpg",
        "%2e%2e%2fescape.jpg",
        "a\r\nContent-Type: text/html.jpg",
        ".htaccess",
        "CON",
        "a" * 300 + ".jpg",
    ],
)
def test_hostile_file_names_are_kept_only_as_safe_names_inside_the_workspace(admin, workspace, media_root, name):
    response = upload(admin, name, samples.JPEG, "image/jpeg")
    # Uploads are accepted under a cleaned name (as RapidPro's `Media.clean_name` does) or refused; never as given.
    assert response.status_code in (201, 400), response.content
    files = [p for p in media_root.rglob("*") if p.is_file()]
    if response.status_code == 400:
        assert files == []
        return
    stored = response.json()["filename"]
    assert SAFE_NAME.match(stored)
    assert len(stored.encode()) <= 255
    assert [p.relative_to(media_root / str(workspace.uuid)).name for p in files] == [stored]
    assert files[0].read_bytes() == samples.JPEG
