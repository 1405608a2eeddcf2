"""The API answers a signed-in browser's calls (as RapidPro's does): in the session's workspace, with the member's
role as for tokens (agents get nothing), CSRF checked on writes."""

import pytest
from django.test import Client

from herald.testing.factories import TEST_PASSWORD, create_web_user
from herald.workspaces.models import Membership, Role

pytestmark = pytest.mark.django_db


def signed_in(workspace, role="admin"):
    """A client that checks CSRF as a browser's calls are checked, signed in (with the form's CSRF token)."""
    client = Client(enforce_csrf_checks=True)
    user = create_web_user(workspace, role)
    client.get("/signin")  # sets the CSRF cookie
    response = client.post(
        "/signin",
        {"email": user.email, "password": TEST_PASSWORD},
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 302
    return client


def test_the_session_reads_the_api_in_its_workspace(workspace):
    response = signed_in(workspace).get("/api/v2/workspace.json")
    assert response.status_code == 200
    assert response.json()["uuid"] == str(workspace.uuid)
    assert response["X-Temba-Workspace"] == str(workspace.uuid)


def test_a_write_needs_the_csrf_token(workspace):
    client = signed_in(workspace)
    body = {"urns": ["tel:+250788000001"], "text": "Hi"}
    response = client.post("/api/v2/broadcasts.json", body, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]

    token = client.cookies["csrftoken"].value
    response = client.post("/api/v2/broadcasts.json", body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content


def test_agents_get_no_api_with_a_session_either(workspace):
    response = signed_in(workspace, "agent").get("/api/v2/workspace.json")
    assert response.status_code == 403


def test_the_switched_workspace_is_the_apis_too(workspace, other_workspace):

    client = signed_in(workspace)
    user_id = client.session["_auth_user_id"]
    Membership.objects.create(workspace=other_workspace, user_id=user_id, role=Role.EDITOR)
    client.post(
        "/workspace", {"workspace": str(other_workspace.uuid)}, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value
    )
    assert client.get("/api/v2/workspace.json").json()["uuid"] == str(other_workspace.uuid)


def test_without_a_session_the_api_still_says_credentials_are_missing(db):
    response = Client().get("/api/v2/workspace.json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided."}
