"""`/api/v2/webhooks.json`: subscriptions created (the secret shown once), listed, deleted; administrators only; bad
input refused with a 400 naming the field, nothing written."""

import pytest

from herald.testing.fixtures import poster, results
from herald.webhooks import addresses
from herald.webhooks.models import Webhook
from herald.webhooks.subscriptions import DUPLICATE_URL

URL = "/api/v2/webhooks.json"
post = poster(URL)
RECEIVER = "http://127.0.0.1:9/events"  # never called: nothing here emits an event


@pytest.fixture
def allow_private(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True


def listed(webhook: Webhook, **changes) -> dict:
    return {
        "uuid": str(webhook.uuid),
        "url": webhook.url,
        "events": webhook.events,
        "statuses": webhook.statuses,
        "batch_size": webhook.batch_size,
        "active": True,
        "deactivated_reason": "",
        "created_on": webhook.created_on.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        **changes,
    }


@pytest.mark.usefixtures("allow_private")
def test_only_administrators_may_see_create_and_delete_webhooks(workspace, assert_roles):
    body = {"url": RECEIVER, "events": ["broadcast.completed"]}
    assert_roles(
        URL,
        get={"anon": 403, "agent": 403, "editor": 403, "admin": 200},
        post={"anon": (body, 403), "agent": (body, 403), "editor": (body, 403), "admin": (body, 201)},
    )
    webhook = Webhook.objects.get()
    assert_roles(f"{URL}?uuid={webhook.uuid}", delete={"anon": 403, "agent": 403, "editor": 403, "admin": 204})
    assert not Webhook.objects.exists()


@pytest.mark.usefixtures("allow_private")
def test_the_secret_is_shown_once_at_creation_and_never_listed(admin, workspace):
    response = post(
        admin, {"url": RECEIVER, "events": ["message.status", "broadcast.completed"], "statuses": ["failed"]}
    )

    assert response.status_code == 201, response.json()
    webhook = Webhook.objects.get()
    assert webhook.workspace == workspace
    assert len(webhook.secret) == 64
    assert response.json() == {**listed(webhook), "secret": webhook.secret}
    assert response.json()["events"] == ["message.status", "broadcast.completed"]
    assert results(admin.get(URL)) == [listed(webhook)]
    assert results(admin.get(f"{URL}?uuid={webhook.uuid}")) == [listed(webhook)]
    assert webhook.secret not in admin.get(URL).content.decode()


@pytest.mark.usefixtures("allow_private")
def test_each_subscription_gets_its_own_secret_and_other_workspaces_see_none(admin, other_workspace, make_client):
    first = post(admin, {"url": RECEIVER, "events": ["broadcast.completed"]}).json()
    second = post(admin, {"url": RECEIVER + "/2", "events": ["broadcast.completed"]}).json()
    assert first["secret"] != second["secret"]

    stranger = make_client(other_workspace)
    assert results(stranger.get(URL)) == []
    assert stranger.delete(f"{URL}?uuid={first['uuid']}").status_code == 404
    assert Webhook.objects.count() == 2


@pytest.mark.usefixtures("allow_private")
def test_delete_needs_a_uuid_of_this_workspace(admin):
    assert admin.delete(URL).json() == {"detail": "URL must contain one of the following parameters: uuid"}
    missing = admin.delete(f"{URL}?uuid=0193a000-0000-7000-8000-000000000000")
    assert missing.status_code == 404


@pytest.mark.usefixtures("allow_private")
def test_a_webhook_cant_be_changed(admin):
    created = post(admin, {"url": RECEIVER, "events": ["broadcast.completed"]}).json()
    response = post(admin, {"url": RECEIVER, "events": ["broadcast.failed"]}, f"?uuid={created['uuid']}")
    assert response.status_code == 400
    assert response.json() == {"detail": "Webhooks can't be changed: delete this one and create another."}
    assert Webhook.objects.get().events == ["broadcast.completed"]


LONG_URL = "http://127.0.0.1/" + "a" * 2040


@pytest.mark.usefixtures("allow_private")
@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"url": "ftp://127.0.0.1/x", "events": ["broadcast.completed"]},
            {"url": ["Must be an http:// or https:// URL."]},
        ),
        ({"url": "127.0.0.1/x", "events": ["broadcast.completed"]}, {"url": ["Must be an http:// or https:// URL."]}),
        ({"url": "http://127.0.0.1:99999/", "events": ["broadcast.completed"]}, {"url": ["Enter a valid URL."]}),
        (
            {"url": LONG_URL, "events": ["broadcast.completed"]},
            {"url": ["Ensure this field has no more than 2048 characters."]},
        ),
        (
            {"url": RECEIVER, "events": ["broadcast.sent"]},
            {"events": {"0": ['"broadcast.sent" is not a valid choice.']}},
        ),
        ({"url": RECEIVER, "events": []}, {"events": ["This list may not be empty."]}),
        ({"url": RECEIVER}, {"events": ["This field is required."]}),
        (
            {"url": RECEIVER, "events": ["message.status"], "statuses": ["lost"]},
            {"statuses": {"0": ['"lost" is not a valid choice.']}},
        ),
        (
            {"url": RECEIVER, "events": ["broadcast.completed"], "statuses": ["failed"]},
            {
                "statuses": [
                    "Only message.status events have statuses: add message.status to events, or leave this out."
                ]
            },
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_written(admin, body, errors):
    response = post(admin, body)
    assert response.status_code == 400
    assert response.json() == errors
    assert not Webhook.objects.exists()


@pytest.mark.usefixtures("allow_private")
def test_a_second_subscription_of_the_same_url_is_refused(admin, other_workspace, make_client):
    assert post(admin, {"url": RECEIVER, "events": ["broadcast.completed"]}).status_code == 201
    again = post(admin, {"url": RECEIVER, "events": ["message.status"]})
    assert again.status_code == 400
    assert again.json() == {"url": [DUPLICATE_URL]}
    # Another workspace may use the same URL.
    assert post(make_client(other_workspace), {"url": RECEIVER, "events": ["message.status"]}).status_code == 201
    assert Webhook.objects.count() == 2


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://127.0.0.1:8000/hook", "127.0.0.1 is not a public address."),
        ("http://localhost/hook", "localhost is 127.0.0.1, which is not a public address."),
        ("http://10.1.2.3/hook", "10.1.2.3 is not a public address."),
        ("https://192.168.0.10/hook", "192.168.0.10 is not a public address."),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is not a public address."),
        ("http://[::1]/hook", "::1 is not a public address."),
        ("http://[::ffff:10.0.0.1]/hook", "::ffff:10.0.0.1 is not a public address."),
        ("http://0.0.0.0/hook", "0.0.0.0 is not a public address."),
        ("http://100.64.0.1/hook", "100.64.0.1 is not a public address."),
    ],
)
def test_private_and_reserved_addresses_are_refused_without_the_operator_setting(admin, url, error):
    response = post(admin, {"url": url, "events": ["broadcast.completed"]})
    assert response.status_code == 400
    assert response.json() == {"url": [f"Refused address: {error}"]}
    assert not Webhook.objects.exists()


def test_public_addresses_pass_the_check():
    # The check alone: no request is made to these (tests reach loopback only).
    addresses.check_url("https://8.8.8.8/hook")
    addresses.check_url("http://[2001:4860:4860::8888]:8080/hook")
