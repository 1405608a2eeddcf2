import base64

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from herald.api.v2.registry import ENDPOINTS
from herald.testing.factories import create_user_token
from herald.testing.fixtures import token_client
from herald.workspaces.models import Membership, Role

URL = "/api/v2/workspace.json"
READABLE_URLS = [f"/api/v2/{endpoint.endpoint_name}.json" for endpoint in ENDPOINTS if "GET" in endpoint.roles]


def test_valid_token_reads_workspace_and_gets_workspace_header(admin, workspace):
    response = admin.get(URL)
    assert response.status_code == 200
    assert response.json()["uuid"] == str(workspace.uuid)
    assert response["X-Temba-Workspace"] == str(workspace.uuid)


def test_org_alias_answers_like_workspace(admin, workspace):
    assert admin.get("/api/v2/org.json").json() == admin.get(URL).json()


def test_no_credentials_is_403_not_401(anon):
    response = anon.get(URL)
    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_invalid_token_is_403_with_rapidpros_message(workspace):
    response = token_client("0" * 40).get(URL)
    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid token"}


def test_bearer_scheme_is_treated_as_anonymous(workspace):
    _, key = create_user_token(workspace)
    client = token_client(key)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get(URL).status_code == 403


def test_malformed_token_header_messages(anon):
    anon.credentials(HTTP_AUTHORIZATION="Token")
    assert anon.get(URL).json() == {"detail": "Invalid token header. No credentials provided."}
    anon.credentials(HTTP_AUTHORIZATION="Token a b")
    assert anon.get(URL).json() == {"detail": "Invalid token header. Token string should not contain spaces."}


def test_basic_auth_with_email_and_token(workspace, anon):
    _user, key = create_user_token(workspace, email="bob@example.com")
    anon.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"bob@example.com:{key}".encode()).decode())
    response = anon.get(URL)
    assert response.status_code == 200
    assert response["X-Temba-Workspace"] == str(workspace.uuid)

    anon.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"eve@example.com:{key}".encode()).decode())
    response = anon.get(URL)
    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid token or email"}


def test_inactive_user_token_is_invalid(workspace):
    user, key = create_user_token(workspace)
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    response = token_client(key).get(URL)
    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid token"}


def test_user_removed_from_workspace_loses_access(workspace):
    user, key = create_user_token(workspace)
    Membership.objects.filter(user=user).delete()
    response = token_client(key).get(URL)
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}


def test_only_the_key_hash_is_stored(workspace):
    user, key = create_user_token(workspace)
    token = user.api_tokens.get()
    assert key not in token.key_hash
    assert len(key) == 40
    assert Membership.objects.get(user=user).role == Role.ADMINISTRATOR


def test_lone_surrogates_in_json_are_a_clear_400(admin):
    response = admin.generic(
        "POST", "/api/v2/broadcasts.json", '{"text": "hi", "urns": ["\\ud800"]}', content_type="application/json"
    )
    assert response.status_code == 400
    assert "surrogate" in response.json()["detail"]


def test_an_agents_token_is_refused_everywhere_as_rapidpro_refuses_it(workspace):
    # temba/api/v2/tests/test_base.py::APITest::test_authentication: "if user is demoted to a role that can't use
    # tokens, tokens shouldn't work for them" (403 by token and by basic auth), and work again once promoted. RapidPro's
    # agents may still use a web session, which Herald doesn't have (docs/COMPATIBILITY.md, C37).
    user, key = create_user_token(workspace, "admin", email="ada@example.com")
    basic = APIClient()
    basic.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"ada@example.com:{key}".encode()).decode())
    assert token_client(key).get(URL).status_code == 200

    Membership.objects.filter(user=user).update(role=Role.AGENT)
    denied = {"detail": "You do not have permission to perform this action."}
    for client in (token_client(key), basic):
        for url in READABLE_URLS:
            response = client.get(url)
            assert (url, response.status_code, response.json()) == (url, 403, denied)

    Membership.objects.filter(user=user).update(role=Role.EDITOR)
    assert token_client(key).get(URL).status_code == 200
    assert basic.get(URL).status_code == 200
