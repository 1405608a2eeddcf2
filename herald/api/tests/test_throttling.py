"""Rate limits: one budget per workspace and scope, shared by all its tokens, with an integer Retry-After."""

import base64

import pytest
from rest_framework.test import APIClient

from herald.testing.factories import create_user_token

URL = "/api/v2/workspace.json"


@pytest.fixture
def tight_rate(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"v2": "3/minute", "v2.contacts": "3/minute", "v2.messages": "3/minute"},
    }


def test_exhausted_budget_answers_429_with_retry_after(tight_rate, admin):
    for _ in range(3):
        assert admin.get(URL).status_code == 200
    response = admin.get(URL)
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60
    assert response.json() == {"detail": f"Request was throttled. Expected available in {retry_after} seconds."}


def test_budget_is_shared_by_every_token_of_the_workspace(tight_rate, workspace, admin, make_client):
    other_user = make_client(workspace, "editor", email="other@example.com")
    for _ in range(3):
        admin.get(URL)
    assert other_user.get(URL).status_code == 429


def test_basic_auth_counts_against_the_same_budget(tight_rate, workspace, admin):
    for _ in range(3):
        admin.get(URL)
    _, key = create_user_token(workspace, email="basic@example.com")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"basic@example.com:{key}".encode()).decode())
    assert client.get(URL).status_code == 429


def test_other_workspaces_have_their_own_budget(tight_rate, admin, other_workspace, make_client):
    for _ in range(4):
        admin.get(URL)
    assert make_client(other_workspace).get(URL).status_code == 200


def test_workspace_override_raises_the_limit(tight_rate, workspace, admin):
    workspace.api_rates = {"v2": "10/minute"}
    workspace.save()
    for _ in range(10):
        assert admin.get(URL).status_code == 200
    assert admin.get(URL).status_code == 429


def test_lowered_limit_still_gives_a_retry_after(tight_rate, workspace, admin):
    for _ in range(3):
        admin.get(URL)
    workspace.api_rates = {"v2": "1/minute"}
    workspace.save()
    response = admin.get(URL)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1


def test_denied_requests_do_not_use_budget(tight_rate, workspace, admin, agent):
    for _ in range(5):
        assert agent.get("/api/v2/broadcasts.json").status_code == 403
    assert admin.get(URL).status_code == 200
