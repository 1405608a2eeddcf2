"""`GET /api/v2/templates.json`: the templates synced from (fake) WhatsApp, in the shape RapidPro's endpoint had."""

import io

import pytest
from django.core.management import call_command

from herald.api.v2.formats import format_datetime
from herald.channels.models import Channel, Template
from herald.channels.registry import create_channel
from herald.testing.providers.whatsapp import BUSINESS_ACCOUNT_ID, CONFIG, listed_template

URL = "/api/v2/templates.json"


@pytest.fixture
def channel(workspace, whatsapp):
    config = {**CONFIG, "base_url": whatsapp.base_url, "business_account_id": BUSINESS_ACCOUNT_ID}
    return create_channel(workspace, "whatsapp", "WhatsApp", config=config)


def sync(channel: Channel) -> None:
    call_command("channel", "sync-templates", str(channel.uuid), stdout=io.StringIO())


def test_templates_are_listed_with_their_translations_per_channel(admin, channel, whatsapp):
    whatsapp.templates = [
        listed_template("appointment", "fr", "Bonjour {{1}}, à {{2}}."),
        listed_template("appointment", "en_US", "Hi {{1}}, see you on {{2}}.", status="PENDING",
                        more=({"type": "HEADER", "format": "IMAGE"}, {"type": "BUTTONS", "buttons": [
                            {"type": "URL", "text": "Open", "url": "https://example.com/{{1}}"}]})),
    ]  # fmt: skip
    sync(channel)
    template = Template.objects.get()

    response = admin.get(URL)

    assert response.status_code == 200
    ref = {"uuid": str(channel.uuid), "name": "WhatsApp"}
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [{
            "uuid": str(template.uuid),
            "name": "appointment",
            "translations": [
                {"channel": ref, "locale": "eng-US", "namespace": "", "status": "pending",
                 "components": [
                     {"name": "header", "type": "header/media", "content": "", "variables": {"1": 0}},
                     {"name": "body", "type": "body/text", "content": "Hi {{1}}, see you on {{2}}.",
                      "variables": {"1": 1, "2": 2}},
                     {"name": "button.0", "type": "button/url", "content": "https://example.com/{{1}}",
                      "display": "Open", "variables": {"1": 3}},
                 ],
                 "variables": [{"type": "image"}, {"type": "text"}, {"type": "text"}, {"type": "text"}]},
                {"channel": ref, "locale": "fra", "namespace": "", "status": "approved",
                 "components": [{"name": "body", "type": "body/text", "content": "Bonjour {{1}}, à {{2}}.",
                                 "variables": {"1": 0, "2": 1}}],
                 "variables": [{"type": "text"}, {"type": "text"}]},
            ],
            "created_on": format_datetime(template.created_on),
            "modified_on": format_datetime(template.modified_on),
        }],
    }  # fmt: skip


def test_a_template_with_header_or_button_variables_cant_be_broadcast(admin, workspace, channel, whatsapp):
    whatsapp.templates = [listed_template("card", "en_US", "Hi {{1}}", more=({"type": "HEADER", "format": "IMAGE"},))]
    sync(channel)
    body = {"urns": ["whatsapp:250788123123"], "text": "Hi", "template": str(Template.objects.get().uuid),
            "template_variables": ["Bob"]}  # fmt: skip

    response = admin.post("/api/v2/broadcasts.json", body, content_type="application/json")

    assert (response.status_code, response.json()) == (
        400, {"template": ["Template 'card' has header or button variables: Herald fills in body ones only."]}
    )  # fmt: skip


def test_a_template_no_channel_lists_any_more_is_left_out_and_others_workspaces_are_never_seen(
    admin, workspace, channel, whatsapp, other_workspace
):
    sync(channel)
    whatsapp.templates = [t for t in whatsapp.templates if t["name"] != "welcome"]
    sync(channel)
    theirs = create_channel(other_workspace, "whatsapp", "Theirs", config=channel.config)
    whatsapp.templates = [listed_template("secret", "en_US", "Hush")]
    sync(theirs)

    names = [t["name"] for t in admin.get(URL).json()["results"]]
    filtered = admin.get(URL, {"name": "promo"}).json()["results"]

    assert sorted(names) == ["appointment", "promo"]
    assert [t["name"] for t in filtered] == ["promo"]


def test_only_administrators_and_editors_may_list_templates(assert_roles):
    assert_roles(URL, get={"anon": 403, "agent": 403, "editor": 200, "admin": 200})
