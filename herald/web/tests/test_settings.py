"""The settings pages through Django's test client: the workspace's settings (the CLI's parsers' words beside each
field), API tokens (the key shown once, revoked by `herald token`'s code), webhooks (the API's serializer's words,
the secret shown once, deliveries), admins only, other workspaces (404) and CSRF."""

import re

import pytest
from django.test import Client

from herald.testing.factories import TEST_PASSWORD, create_web_user
from herald.testing.fixtures import token_client
from herald.webhooks.models import Attempt, Delivery, DeliveryStatus, Event, Webhook
from herald.workspaces.models import APIToken

pytestmark = pytest.mark.django_db
HOOK = "http://127.0.0.1:9/hook"


def text_of(response, status: int = 200) -> str:
    assert response.status_code == status, response.content[:800]
    return response.content.decode()


def error_beside(page: str, field: str) -> str:
    """The errors shown in the field block of `field`: a labelled input, or a fieldset of checkboxes."""
    block = re.search(rf'<div class="field invalid">\s*<label for="id_{field}">.*?</div>', page, re.S) or re.search(
        rf'<fieldset class="field invalid" id="field-{field}">.*?</fieldset>', page, re.S
    )
    assert block, f"no error beside {field}"
    return " ".join(re.findall(r'<p class="field-error" role="alert">(.*?)</p>', block[0]))


def settings_form(workspace, **changes) -> dict:
    form = {
        "languages": ",".join(workspace.languages),
        "timezone": workspace.timezone,
        "send_window": "none",
        "stop_words": "",
        "start_words": "",
        "stop_confirmations": "",
    }
    return {**form, **changes}


def test_an_admin_changes_the_workspaces_settings(web_client, workspace):
    client = web_client(workspace)
    posted = settings_form(
        workspace,
        languages="kin, eng",
        timezone="Africa/Kigali",
        send_window="mon-fri 08:00-20:00",
        stop_words="kin=HAGARIKA,reka",
        start_words="kin=TANGIRA",
        stop_confirmations="kin=Ntuzongera kubona ubutumwa.",
    )
    response = client.post("/settings/", posted)
    assert response.status_code == 302, response.content[:800]
    workspace.refresh_from_db()
    assert workspace.languages == ["kin", "eng"]
    assert workspace.timezone == "Africa/Kigali"
    assert workspace.send_window["days"] == ["mon", "tue", "wed", "thu", "fri"]
    assert workspace.stop_words == {"kin": ["HAGARIKA", "REKA"]}
    assert workspace.start_words == {"kin": ["TANGIRA"]}
    assert workspace.stop_confirmations == {"kin": "Ntuzongera kubona ubutumwa."}

    page = text_of(client.get(response.url))
    assert "Settings saved." in page
    assert "mon,tue,wed,thu,fri 08:00-20:00" in page
    assert "kin=HAGARIKA,REKA" in page
    # A language's line removed removes its words, as `--stop-words kin=` does.
    client.post("/settings/", settings_form(workspace, send_window="mon-fri 08:00-20:00"))
    workspace.refresh_from_db()
    assert workspace.stop_words == {}
    assert workspace.stop_confirmations == {}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"languages": "eng,klingon"}, "languages", "Unknown language &#x27;klingon&#x27;"),
        ({"timezone": "Mars/Olympus"}, "timezone", "Unknown timezone &#x27;Mars/Olympus&#x27;"),
        ({"send_window": "weekdays"}, "send_window", "Bad send window: Write DAYS START-END"),
        ({"stop_words": "kin HAGARIKA"}, "stop_words", "--stop-words takes LANGUAGE=VALUE"),
        ({"stop_confirmations": "eng=" + "x" * 700}, "stop_confirmations", "longer than 640 characters"),
    ],
)
def test_each_bad_setting_is_the_clis_words_beside_its_field(web_client, workspace, changes, field, message):
    page = text_of(web_client(workspace).post("/settings/", settings_form(workspace, **changes)), 400)
    assert message in error_beside(page, field)
    workspace.refresh_from_db()
    assert workspace.languages == ["eng", "fra", "kin"]
    assert workspace.timezone == "UTC"


def test_settings_that_dont_go_together_change_nothing(web_client, workspace):
    posted = settings_form(workspace, languages="spa", stop_words="eng=HALT", start_words="eng=HALT")
    page = text_of(web_client(workspace).post("/settings/", posted), 400)
    assert "&#x27;HALT&#x27; can&#x27;t be both a stop word and a start word" in page
    workspace.refresh_from_db()
    assert workspace.languages == ["eng", "fra", "kin"]
    assert workspace.stop_words == {}


@pytest.mark.parametrize("role", ["editor", "agent"])
def test_members_see_the_settings_but_only_admins_change_them(web_client, workspace, role):
    client = web_client(workspace, role)
    page = text_of(client.get("/settings/"))
    assert "Only administrators change these." in page
    assert '<form method="post">' not in page
    assert "STOP" in page  # the defaults, as workspace.json lists them
    assert client.post("/settings/", settings_form(workspace, timezone="Africa/Kigali")).status_code == 403
    workspace.refresh_from_db()
    assert workspace.timezone == "UTC"
    for url in ("/settings/tokens/", "/settings/webhooks/"):
        assert client.get(url).status_code == 403
    assert client.post("/settings/tokens/new").status_code == 403
    assert not APIToken.objects.exists()


def test_a_token_is_shown_once_works_and_is_revoked(web_client, workspace):
    client = web_client(workspace)
    response = client.post("/settings/tokens/new")
    page = text_of(response)
    key = re.search(r'<code class="key">([0-9a-f]{40})</code>', page)[1]
    assert "no-store" in response["Cache-Control"]
    assert token_client(key).get("/api/v2/workspace.json").status_code == 200

    listing = text_of(client.get("/settings/tokens/"))
    assert key not in listing  # never again
    assert f"{key[:8]}…" in listing
    assert client.user.username in listing
    assert "never" not in listing

    token = APIToken.objects.get()
    response = client.post("/settings/tokens/revoke", {"token": str(token.id)})
    assert "revoked: it no longer works" in text_of(client.get(response.url))
    assert token_client(key).get("/api/v2/workspace.json").status_code == 403
    assert "No token &#x27;nope&#x27;" in text_of(
        client.get(client.post("/settings/tokens/revoke", {"token": "nope"}).url)
    )


def test_another_workspaces_token_cant_be_revoked(web_client, workspace, other_workspace):
    from herald.workspaces.provisioning import create_token  # noqa: PLC0415

    theirs, _ = create_token(other_workspace, "them@example.com")
    client = web_client(workspace)
    client.post("/settings/tokens/revoke", {"token": str(theirs.id)})
    theirs.refresh_from_db()
    assert theirs.is_active
    assert "them@example.com" not in text_of(client.get("/settings/tokens/"))


@pytest.fixture
def private_hooks(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the test's URL is on loopback, never posted to


def test_a_webhook_is_added_with_its_secret_shown_once_and_removed(web_client, workspace, private_hooks):
    client = web_client(workspace)
    posted = {
        "url": HOOK,
        "events": ["broadcast.completed", "message.status"],
        "statuses": ["failed"],
        "batch_size": "10",
    }
    page = text_of(client.post("/settings/webhooks/", posted))
    hook = Webhook.objects.get(workspace=workspace)
    assert hook.events == ["broadcast.completed", "message.status"]
    assert hook.batch_size == 10
    assert hook.statuses == ["failed"]
    assert hook.secret in page
    assert hook.secret not in text_of(client.get("/settings/webhooks/"))

    response = client.post(f"/settings/webhooks/{hook.uuid}/delete")
    assert "removed" in text_of(client.get(response.url))
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"url": "ftp://x.example/", "events": ["message.status"]}, "url", "Must be an http:// or https:// URL."),
        ({"url": HOOK}, "events", "This list may not be empty."),
        ({"url": HOOK, "events": ["broadcast.sent"]}, "events", "&quot;broadcast.sent&quot; is not a valid choice."),
        (
            {"url": HOOK, "events": ["broadcast.started"], "statuses": ["failed"]},
            "statuses",
            "Only message.status events have statuses",
        ),
        (
            {"url": HOOK, "events": ["broadcast.started"], "batch_size": "500"},
            "batch_size",
            "Ensure this value is less than or equal to 100.",
        ),
    ],
)
def test_each_bad_webhook_is_the_apis_words_beside_its_field(
    web_client, workspace, private_hooks, posted, field, message
):
    page = text_of(web_client(workspace).post("/settings/webhooks/", posted), 400)
    assert message in error_beside(page, field)
    assert not Webhook.objects.exists()


def test_a_private_address_is_refused_as_the_api_refuses_it(web_client, workspace):
    page = text_of(web_client(workspace).post("/settings/webhooks/", {"url": HOOK, "events": ["message.status"]}), 400)
    assert "Refused address: 127.0.0.1 is not a public address." in error_beside(page, "url")


def test_a_webhooks_deliveries_and_attempts(web_client, workspace, private_hooks):
    hook = Webhook.objects.create(workspace=workspace, url=HOOK, events=["broadcast.completed"])
    event = Event.objects.create(workspace=workspace, type="broadcast.completed", data={})
    delivery = Delivery.objects.create(webhook=hook, event=event, status=DeliveryStatus.FAILED, attempts=1)
    Attempt.objects.create(delivery=delivery, number=1, status_code=500, error="<b>server error</b>")
    page = text_of(web_client(workspace).get(f"/settings/webhooks/{hook.uuid}/"))
    assert "broadcast.completed" in page
    assert "failed" in page
    assert "#1: 500" in page
    assert "&lt;b&gt;server error&lt;/b&gt;" in page


def test_another_workspaces_webhook_is_404(web_client, workspace, other_workspace):
    theirs = Webhook.objects.create(workspace=other_workspace, url=HOOK, events=["message.status"])
    client = web_client(workspace)
    assert client.get(f"/settings/webhooks/{theirs.uuid}/").status_code == 404
    assert client.post(f"/settings/webhooks/{theirs.uuid}/delete").status_code == 404
    assert Webhook.objects.filter(pk=theirs.pk).exists()


def test_settings_forms_need_the_csrf_token(workspace):
    user = create_web_user(workspace)
    client = Client(enforce_csrf_checks=True)
    client.get("/signin")
    client.post(
        "/signin",
        {"email": user.email, "password": TEST_PASSWORD, "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
    )
    assert client.post("/settings/tokens/new").status_code == 403
    assert client.post("/settings/", settings_form(workspace, timezone="Africa/Kigali")).status_code == 403
    assert not APIToken.objects.exists()
    workspace.refresh_from_db()
    assert workspace.timezone == "UTC"


def test_the_tokens_and_webhooks_pages_queries_dont_grow(
    web_client, workspace, private_hooks, django_assert_max_num_queries
):
    from herald.workspaces.provisioning import create_token  # noqa: PLC0415

    client = web_client(workspace)
    for n in range(10):
        create_token(workspace, f"dev{n}@example.com")
        Webhook.objects.create(workspace=workspace, url=f"{HOOK}/{n}", events=["message.status"])
    with django_assert_max_num_queries(6):
        assert "dev9@example.com" in text_of(client.get("/settings/tokens/"))
    with django_assert_max_num_queries(4):
        assert f"{HOOK}/9" in text_of(client.get("/settings/webhooks/"))
