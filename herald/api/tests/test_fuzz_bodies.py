"""Property-based fuzzing of the POST bodies: whatever JSON (or bytes) arrives, the answer is a 2xx or a clear JSON
4xx, and a refused request writes nothing."""

import json
import uuid

import pytest
from django.apps import apps
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from herald.contacts.models import ContactField
from herald.testing.factories import make_contact, make_group, make_media

FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# Strings a client might plausibly send, and the kinds that break naive code.
TRICKY = [
    "",
    " ",
    "\x00",
    "Reporters",
    "reporters",
    "Nickname",
    "nickname",
    "eng",
    "fra",
    "kin",
    "xyz",
    "tel:+250788111111",
    "tel:+250788123123",
    "tel:0788123123",
    "tel:+1",
    "twitter:ann",
    "mailto:a@b.c",
    "whatsapp:250788123123",
    "ext:x",
    "tel:+250788123123#Ann",
    "@contact.name",
    "@(1 / 0)",
    "text",
    "numeric",
    "date",
    "x" * 5000,
    "é" * 70,
    "\u202e",
    "😀",
    "\ud800",
    str(uuid.UUID(int=0)),
]
TEXT = st.text(max_size=24) | st.sampled_from(TRICKY) | st.uuids().map(str)
SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
JSON_VALUE = st.recursive(
    SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12
)


def translated(value):
    """A bare value, a list of them, or an object of them keyed by (mostly) language codes."""
    languages = st.sampled_from(["eng", "fra", "kin", "spa", "xx", ""]) | TEXT
    return value | st.lists(value, max_size=3) | st.dictionaries(languages, value | st.lists(value, max_size=3))


QUICK_REPLY = st.fixed_dictionaries(
    {}, optional={"text": SCALAR, "type": st.sampled_from(["text", "form", "url", "location"]) | TEXT, "extra": SCALAR}
)
FIELDS = {
    "broadcasts": {
        "urns": st.lists(TEXT, max_size=4),
        "contacts": st.lists(TEXT | st.integers(), max_size=3),
        "groups": st.lists(TEXT | st.integers(), max_size=3),
        "text": translated(TEXT),
        "attachments": translated(TEXT),
        "quick_replies": translated(QUICK_REPLY),
        "base_language": TEXT,
    },
    "contacts": {
        "name": TEXT | SCALAR,
        "language": TEXT | SCALAR,
        "urns": st.lists(TEXT, max_size=4),
        "groups": st.lists(TEXT, max_size=3),
        "fields": st.dictionaries(TEXT, TEXT | SCALAR, max_size=3),
    },
    "groups": {"name": TEXT | SCALAR},
    "fields": {"name": TEXT | SCALAR, "type": TEXT},
}


# Bodies that are mostly right, so the fuzzing also reaches the writes and the 201s.
WORDS = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=20)
GOOD_URNS = st.lists(
    st.sampled_from(["tel:+250788123123", "tel:0788111111", "twitter:ann", "mailto:a@b.c"]), min_size=1
)
NEARLY_VALID = {
    "broadcasts": {"urns": GOOD_URNS, "text": translated(WORDS)},
    "contacts": {"name": WORDS},
    "groups": {"name": WORDS},
    "fields": {"name": WORDS, "type": st.just("text")},
}


def body_for(endpoint: str):
    """Bodies shaped like the endpoint's (any subset of its fields, each plausible or any JSON), nearly valid ones
    with extra fields, or any JSON at all."""
    fields = {name: strategy | JSON_VALUE for name, strategy in FIELDS[endpoint].items()}
    shaped = st.fixed_dictionaries({}, optional={**fields, "junk": JSON_VALUE})
    extras = {name: strategy for name, strategy in FIELDS[endpoint].items() if name not in NEARLY_VALID[endpoint]}
    nearly_valid = st.fixed_dictionaries(NEARLY_VALID[endpoint], optional=extras)
    return shaped | nearly_valid | JSON_VALUE


def row_counts() -> dict:
    labels = {app.label for app in apps.get_app_configs() if app.name.startswith("herald.")}
    models = [m for m in apps.get_models(include_auto_created=True) if m._meta.app_label in labels]
    return {model._meta.label: model._default_manager.count() for model in models}


@pytest.fixture
def seeded(workspace):
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"])
    make_group(workspace, "Reporters", [ann])
    ContactField.objects.create(workspace=workspace, key="nickname", name="Nickname")
    make_media(workspace)
    return ann


def assert_clear_answer(client, endpoint: str, body: bytes, query: str = ""):
    before = row_counts()
    response = client.generic("POST", f"/api/v2/{endpoint}.json{query}", body, content_type="application/json")
    assert response.status_code < 500, response.content
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    if response.status_code >= 400:
        assert answer, "a refusal says why"
        assert row_counts() == before, f"{response.status_code} {answer} yet rows changed"
    else:
        assert response.status_code in (200, 201)
        assert answer.get("uuid") or answer.get("key")  # the object written, as a list shows it


@pytest.mark.parametrize("endpoint", list(FIELDS))
def test_any_json_body_gets_a_clear_answer(admin, seeded, endpoint):
    @FUZZ
    @given(body=body_for(endpoint))
    def check(body):
        assert_clear_answer(admin, endpoint, json.dumps(body).encode())

    check()


@FUZZ
@given(body=body_for("contacts"), lookup=st.sampled_from(["uuid", "urn"]), value=TEXT)
def test_any_update_gets_a_clear_answer(admin, seeded, body, lookup, value):
    value = {"uuid": str(seeded.uuid), "urn": "tel:+250788111111"}[lookup] if value == "" else value
    assert_clear_answer(admin, "contacts", json.dumps(body).encode(), f"?{lookup}={value}")


@pytest.mark.parametrize("endpoint", list(FIELDS))
def test_any_bytes_get_a_clear_answer(admin, seeded, endpoint):
    @FUZZ
    @given(body=st.binary(max_size=200) | body_for(endpoint).map(lambda b: json.dumps(b).encode()[:-1]))
    def check(body):
        assert_clear_answer(admin, endpoint, body)

    check()
