"""A request body over HERALD_MAX_BODY_BYTES gets a JSON 413 on every endpoint; uploaded files answer only to the
media limit."""

import json

import pytest

from herald.channels.callbacks import callback_urls
from herald.channels.registry import create_channel
from herald.contacts.models import Contact
from herald.media.models import Media
from herald.media.tests import samples
from herald.msgs.models import Broadcast
from herald.testing.factories import make_contact

LIMIT = 4096
TOO_LARGE = {"detail": f"Request body is larger than the limit of {LIMIT} bytes."}


@pytest.fixture
def small_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT


def json_body(size: int) -> str:
    """A valid broadcast body of exactly `size` bytes."""
    head = '{"urns": ["tel:+250788123123"], "text": "'
    return head + "x" * (size - len(head) - 2) + '"}'


@pytest.mark.parametrize("endpoint", ["broadcasts", "contacts", "groups", "fields"])
def test_an_oversized_json_body_is_a_json_413_on_every_write_endpoint(small_limit, admin, endpoint):
    response = admin.post(f"/api/v2/{endpoint}.json", json_body(LIMIT + 1), content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == TOO_LARGE


def test_an_oversized_body_with_an_idempotency_key_is_a_413_too(small_limit, admin):
    body = json_body(LIMIT + 1)
    for _ in range(2):  # nothing was remembered: the retry is refused the same way
        response = admin.post(
            "/api/v2/broadcasts.json", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
        )
        assert (response.status_code, response.json()) == (413, TOO_LARGE)
    assert not Broadcast.objects.exists()


def test_an_oversized_update_is_refused_and_changes_nothing(small_limit, admin, workspace):
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"])
    body = json.dumps({"name": "A" * LIMIT})
    response = admin.post(f"/api/v2/contacts.json?uuid={ann.uuid}", body, content_type="application/json")
    assert (response.status_code, response.json()) == (413, TOO_LARGE)
    assert Contact.objects.get(pk=ann.pk).name == "Ann"


def test_a_body_at_the_limit_is_read(small_limit, admin):
    response = admin.post("/api/v2/broadcasts.json", json_body(LIMIT), content_type="application/json")
    assert response.status_code == 201
    assert Broadcast.objects.count() == 1


def test_form_bodies_count_too(small_limit, admin):
    body = "text=" + "x" * LIMIT + "&urns=tel%3A%2B250788123123"
    response = admin.post("/api/v2/broadcasts.json", body, content_type="application/x-www-form-urlencoded")
    assert (response.status_code, response.json()) == (413, TOO_LARGE)
    response = admin.post("/api/v2/media.json", body, content_type="application/x-www-form-urlencoded")
    assert (response.status_code, response.json()) == (413, TOO_LARGE)
    assert not Broadcast.objects.exists()


def test_an_upload_larger_than_the_body_limit_is_accepted(small_limit, settings, admin):
    assert settings.MEDIA_MAX_UPLOAD_BYTES > 4 * LIMIT
    content = samples.JPEG + b"\x00" * (4 * LIMIT)
    body, content_type = samples.multipart("big.jpg", content, "image/jpeg")
    response = admin.post("/api/v2/media.json", data=body, content_type=content_type)
    assert response.status_code == 201, response.content
    assert response.json()["size"] == len(content)
    assert Media.objects.count() == 1


def test_an_upload_over_the_media_limit_still_gets_the_media_message(small_limit, settings, admin):
    settings.MEDIA_MAX_UPLOAD_BYTES = 2 * LIMIT
    body, content_type = samples.multipart("big.jpg", samples.JPEG + b"\x00" * (3 * LIMIT), "image/jpeg")
    response = admin.post("/api/v2/media.json", data=body, content_type=content_type)
    assert response.status_code == 400
    assert response.json() == {"file": [f"Limit for file uploads is {2 * LIMIT / (1024 * 1024)} MB."]}


def test_without_a_token_the_body_is_never_read(small_limit, anon):
    # Credentials are checked before the body is read: a caller without a token learns nothing more.
    response = anon.post("/api/v2/broadcasts.json", json_body(LIMIT + 1), content_type="application/json")
    assert response.status_code == 403


def test_channel_delivery_reports_answer_json_too(small_limit, workspace, anon):
    channel = create_channel(workspace, "external", "Gateway", config={"send_url": "http://127.0.0.1:9/send"})
    response = anon.post(
        callback_urls(channel)["delivered"], json.dumps({"id": "x" * LIMIT}), content_type="application/json"
    )
    assert (response.status_code, response.json()) == (413, TOO_LARGE)
