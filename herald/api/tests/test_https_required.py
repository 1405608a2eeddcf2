"""`HERALD_REQUIRE_HTTPS=1`: plain HTTP to the API is refused with 403, directly or behind an HTTPS proxy."""

import pytest

from herald.api.v2.registry import ENDPOINTS
from herald.msgs.models import Broadcast

HTTPS_REQUIRED = {"detail": "HTTPS is required."}
# How a TLS-terminating proxy tells Herald the original request was HTTPS.
FROM_HTTPS_PROXY = {"HTTP_X_FORWARDED_PROTO": "https"}


@pytest.fixture
def require_https(settings):
    settings.REQUIRE_HTTPS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def call(client, endpoint, **extra):
    """The endpoint's main method: GET for lists, POST for the upload-only media endpoint."""
    url = f"/api/v2/{endpoint.endpoint_name}.json"
    if "GET" in endpoint.roles:
        return client.get(url, **extra)
    return client.post(url, {}, **extra)


# docs/COMPATIBILITY.md, C18.
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.endpoint_name)
def test_every_endpoint_refuses_plain_http(require_https, admin, endpoint):
    response = call(admin, endpoint)
    assert response.status_code == 403
    assert response.json() == HTTPS_REQUIRED


def test_https_and_a_proxy_saying_https_are_served(require_https, admin):
    assert admin.get("/api/v2/workspace.json", secure=True).status_code == 200
    assert admin.get("/api/v2/workspace.json", **FROM_HTTPS_PROXY).status_code == 200
    assert admin.get("/api/v2/org.json", **FROM_HTTPS_PROXY).status_code == 200


def test_a_proxy_saying_http_is_refused(require_https, admin):
    response = admin.get("/api/v2/workspace.json", HTTP_X_FORWARDED_PROTO="http")
    assert (response.status_code, response.json()) == (403, HTTPS_REQUIRED)


def test_a_refused_write_stores_nothing(require_https, admin):
    body = {"text": "Hi", "urns": ["tel:+250788123123"]}
    response = admin.post("/api/v2/broadcasts.json", body, format="json")
    assert (response.status_code, response.json()) == (403, HTTPS_REQUIRED)
    assert not Broadcast.objects.exists()
    assert admin.post("/api/v2/broadcasts.json", body, format="json", secure=True).status_code == 201


def test_without_a_token_the_answer_still_names_https(require_https, anon):
    response = anon.get("/api/v2/broadcasts.json")
    assert (response.status_code, response.json()) == (403, HTTPS_REQUIRED)
    # Over HTTPS the missing token is what's wrong.
    response = anon.get("/api/v2/broadcasts.json", secure=True)
    assert (response.status_code, response.json()) == (403, {"detail": "Authentication credentials were not provided."})


def test_a_wrong_token_is_reported_as_such(require_https, db, anon):
    anon.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = anon.get("/api/v2/broadcasts.json")
    assert (response.status_code, response.json()) == (403, {"detail": "Invalid token"})


def test_refused_requests_use_no_rate_budget(require_https, settings, workspace, admin):
    workspace.api_rates = {"v2": "2/minute"}
    workspace.save()
    for _ in range(3):
        assert admin.get("/api/v2/workspace.json").status_code == 403
    assert admin.get("/api/v2/workspace.json", secure=True).status_code == 200


def test_plain_http_is_served_when_https_is_not_required(admin):
    assert admin.get("/api/v2/workspace.json").status_code == 200
