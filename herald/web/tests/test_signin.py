"""Signing in and out, the attempt limit, CSRF, password change and the workspace switcher, through Django's test
client against Herald's own pages."""

import re

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from herald.testing.factories import TEST_PASSWORD, create_web_user
from herald.testing.fixtures import sign_in
from herald.workspaces.models import Membership, Role, Workspace

pytestmark = pytest.mark.django_db


def test_sign_in_lands_on_the_broadcasts_page(workspace):
    user = create_web_user(workspace, "editor")
    client = Client()
    assert client.get("/broadcasts/").url == "/signin?next=/broadcasts/"

    response = sign_in(client, user.email)
    assert (response.status_code, response.url) == (302, "/broadcasts/")
    page = client.get("/broadcasts/").content.decode()
    assert "Broadcasts" in page
    assert f"{user.email} · editor" in page
    assert workspace.name in page


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(workspace):
    user = create_web_user(workspace)
    response = Client().post("/signin", {"email": user.email, "password": TEST_PASSWORD, "next": "/account/password"})
    assert response.url == "/account/password"
    response = Client().post("/signin", {"email": user.email, "password": TEST_PASSWORD, "next": "//evil.test/"})
    assert response.url == "/broadcasts/"


def test_a_wrong_password_says_so_and_signs_nobody_in(workspace):
    user = create_web_user(workspace)
    client = Client()
    response = sign_in(client, user.email, "not the password")
    assert response.status_code == 400
    assert "Wrong e-mail address or password." in response.content.decode()
    assert client.get("/broadcasts/").status_code == 302


def test_an_unknown_email_gets_the_same_message(db):
    response = sign_in(Client(), "nobody@example.com")
    assert response.status_code == 400
    assert "Wrong e-mail address or password." in response.content.decode()


def test_a_bad_email_is_shown_beside_its_field(db):
    response = sign_in(Client(), "not an address")
    assert response.status_code == 400
    assert re.search(r'class="field-error"[^>]*>Enter a valid email address\.<', response.content.decode())


def test_a_member_of_no_workspace_is_told_so(workspace):
    user = create_web_user(workspace)
    user.memberships.all().delete()
    response = sign_in(Client(), user.email)
    assert response.status_code == 403
    assert "This account is not a member of any workspace." in response.content.decode()


def test_attempts_are_limited_per_email_even_with_the_right_password(workspace, settings):
    user = create_web_user(workspace)
    for _ in range(settings.SIGNIN_ATTEMPTS):
        assert sign_in(Client(), user.email, "wrong").status_code == 400
    response = sign_in(Client(), user.email)
    assert response.status_code == 429
    assert "Too many attempts, try again in 15 minutes." in response.content.decode()


def test_attempts_are_limited_per_client_address_across_emails(workspace, settings):
    user = create_web_user(workspace)
    client = Client(REMOTE_ADDR="127.0.0.9")
    for n in range(settings.SIGNIN_ATTEMPTS):
        assert sign_in(client, f"guess{n}@example.com", "wrong").status_code == 400
    response = sign_in(client, user.email)
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    # Another address is not held back.
    assert sign_in(Client(REMOTE_ADDR="127.0.0.10"), user.email).status_code == 302


def test_a_form_without_its_csrf_token_is_refused_with_a_page_that_says_why(workspace):
    user = create_web_user(workspace)
    client = Client(enforce_csrf_checks=True)
    response = sign_in(client, user.email)
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()

    client.get("/signin")
    token = client.cookies["csrftoken"].value
    response = client.post("/signin", {"email": user.email, "password": TEST_PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_sign_out_ends_the_session(web_client, workspace):
    client = web_client(workspace)
    assert client.get("/signout").status_code == 405  # a link can't sign anyone out: POST only
    assert client.post("/signout").url == "/signin"
    assert client.get("/broadcasts/").status_code == 302


def test_an_expired_session_goes_back_to_sign_in_even_from_a_poll(web_client, workspace):
    client = web_client(workspace)
    Session.objects.all().delete()  # as when the session's age ran out
    assert client.get("/broadcasts/?before=x").url == "/signin?next=/broadcasts/%3Fbefore%3Dx"
    poll = client.get("/broadcasts/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/broadcasts/")
    assert poll.status_code == 200
    assert poll["HX-Redirect"] == "/signin?next=/broadcasts/"
    assert poll.content == b""


def test_password_change_keeps_this_session_and_ends_the_others(web_client, workspace):
    client = web_client(workspace)
    other = Client()
    sign_in(other, client.user.email)

    response = client.post("/account/password", {"old_password": "wrong", "new_password1": "x", "new_password2": "y"})
    assert response.status_code == 400
    assert "Your old password was entered incorrectly." in response.content.decode()

    new = "a much longer passphrase"
    response = client.post(
        "/account/password", {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 200
    assert "Your password was changed." in response.content.decode()
    assert client.get("/broadcasts/").status_code == 200
    assert other.get("/broadcasts/").status_code == 302
    assert sign_in(Client(), client.user.email, new).status_code == 302


def test_the_switcher_moves_between_the_users_workspaces_only(web_client, workspace, other_workspace):

    client = web_client(workspace)
    Membership.objects.create(workspace=other_workspace, user=client.user, role=Role.AGENT)
    page = client.get("/broadcasts/").content.decode()
    assert f'<option value="{other_workspace.uuid}">Trileet</option>' in page

    response = client.post("/workspace", {"workspace": str(other_workspace.uuid)})
    assert response.url == "/broadcasts/"
    assert "· agent" in client.get("/broadcasts/").content.decode()

    stranger = Workspace.objects.create(name="Elsewhere")
    assert client.post("/workspace", {"workspace": str(stranger.uuid)}).status_code == 404
    assert client.post("/workspace", {"workspace": "not-a-uuid"}).status_code == 404


def test_security_headers_on_every_page(db):
    response = Client().get("/signin")
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "<script>" not in response.content.decode()  # every script is a file: <script src=...>


def test_cookies_are_secure_behind_https(workspace, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    user = create_web_user(workspace)
    response = sign_in(Client(), user.email)
    assert response.cookies["sessionid"]["secure"]
    assert response.cookies["sessionid"]["httponly"]


def test_static_files_are_served_by_herald(db):
    response = Client().get("/static/web/app.css")
    assert response.status_code == 200
    assert b"No inline styles" in b"".join(response.streaming_content)
