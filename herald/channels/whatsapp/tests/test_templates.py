"""Message templates from the Cloud API: `herald channel sync-templates` (and `channel add` with a
business_account_id) reads every page of `/{waba}/message_templates` from FakeWhatsApp and keeps each template's
translations and statuses; a later sync follows what WhatsApp lists."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from herald.channels.models import Channel, ChannelLog, Template, TemplateTranslation
from herald.channels.registry import create_channel
from herald.testing.providers.whatsapp import BUSINESS_ACCOUNT_ID, CONFIG, TOKEN, listed_template


@pytest.fixture
def synced_channel(workspace, whatsapp):
    channel = create_channel(
        workspace,
        "whatsapp",
        "WhatsApp",
        config={**CONFIG, "base_url": whatsapp.base_url, "business_account_id": BUSINESS_ACCOUNT_ID},
    )
    whatsapp.requests.clear()
    return channel


def sync(channel, *extra) -> str:
    out = io.StringIO()
    call_command("channel", "sync-templates", str(channel.uuid), *extra, stdout=out)
    return out.getvalue()


def kept(channel) -> list[tuple[str, str, str, str, int]]:
    rows = TemplateTranslation.objects.filter(channel=channel).select_related("template")
    return sorted((t.template.name, t.locale, t.external_locale, t.status, t.body_variable_count) for t in rows)


def test_sync_reads_every_page_and_keeps_each_translation_with_its_status(synced_channel, whatsapp):
    whatsapp.max_page_size = 3

    output = sync(synced_channel)

    first, second = whatsapp.requests
    assert (first.method, first.path) == ("GET", f"/{BUSINESS_ACCOUNT_ID}/message_templates?limit=100")
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert second.query == {"limit": ["100"], "after": ["Mw=="]}
    assert kept(synced_channel) == [
        ("appointment", "eng-US", "en_US", "approved", 2),
        ("appointment", "fra", "fr", "approved", 2),
        ("promo", "eng-US", "en_US", "rejected", 1),
        ("welcome", "eng-US", "en_US", "approved", 0),
    ]
    appointment = TemplateTranslation.objects.get(template__name="appointment", locale="fra")
    assert appointment.components == [
        {"name": "body", "type": "body/text", "content": "Bonjour {{1}}, à {{2}}.", "variables": {"1": 0, "2": 1}}
    ]
    assert appointment.variables == [{"type": "text"}, {"type": "text"}]
    assert output.splitlines() == [
        "appointment  eng-US  approved  2 body variables",
        "appointment  fra  approved  2 body variables",
        "promo  eng-US  rejected  1 body variables",
        "welcome  eng-US  approved  0 body variables",
        f"Channel {synced_channel.uuid} (WhatsApp): 4 templates found (3 approved, 4 new, 0 no longer listed and"
        " removed)",
    ]
    assert Template.objects.filter(workspace=synced_channel.workspace).count() == 3


def test_a_later_sync_follows_status_changes_and_removes_what_whatsapp_no_longer_lists(synced_channel, whatsapp):
    sync(synced_channel)
    whatsapp.templates = [
        listed_template("appointment", "en_US", "Hi {{1}}, see you on {{2}}.", status="PAUSED"),
        listed_template("promo", "en_US", "Sale {{1}}"),
        listed_template("gone", "en_US", "Bye", status="DELETED"),  # Meta lists deleted ones for a while
    ]

    output = sync(synced_channel)

    assert kept(synced_channel) == [
        ("appointment", "eng-US", "en_US", "paused", 2),
        ("promo", "eng-US", "en_US", "approved", 1),
    ]
    assert output.splitlines()[-1].endswith("2 templates found (1 approved, 0 new, 2 no longer listed and removed)")
    # The template itself stays (a broadcast may name it); with no translation left it can't go as a template.
    assert set(Template.objects.values_list("name", flat=True)) == {"appointment", "promo", "welcome"}


def test_add_with_a_business_account_id_syncs_the_templates_at_once(workspace, whatsapp):
    pairs = [f"{k}={v}" for k, v in {**CONFIG, "base_url": whatsapp.base_url}.items()]
    out = io.StringIO()
    call_command("channel", "add", f"--workspace={workspace.uuid}", "--type=whatsapp", "--name=WhatsApp",
                 "--config", *pairs, f"business_account_id={BUSINESS_ACCOUNT_ID}", stdout=out,
                 stderr=io.StringIO())  # fmt: skip

    channel = Channel.objects.get()
    assert out.getvalue().splitlines()[-1] == (
        "Message templates: 4 templates found (3 approved, 4 new, 0 no longer listed and removed)"
    )
    assert len(kept(channel)) == 4
    assert TOKEN not in out.getvalue()


def test_sync_without_a_business_account_id_says_which_key_is_missing(channel, whatsapp):
    with pytest.raises(CommandError, match="the channel has no business_account_id: add it to sync"):
        sync(channel)
    assert whatsapp.requests == []


def test_a_refused_template_list_is_a_clear_error_in_whatsapps_words_without_the_token(synced_channel, whatsapp):
    Channel.objects.filter(id=synced_channel.id).update(
        config={**synced_channel.config, "access_token": "EAAG-revoked"}
    )
    synced_channel.refresh_from_db()

    with pytest.raises(CommandError) as error:
        sync(synced_channel)

    assert str(error.value) == (
        "WhatsApp refused the template list: WhatsApp error 190: Invalid OAuth access token - Cannot parse access token"
    )
    assert not TemplateTranslation.objects.exists()
    assert "EAAG-revoked" not in str([log.http_logs for log in ChannelLog.objects.all()])


def test_a_type_without_templates_says_so(workspace):
    console = create_channel(workspace, "console", "Console")
    with pytest.raises(CommandError, match="channels of type 'console' have no message templates"):
        sync(console)


def test_sync_json_prints_one_object_a_translation(synced_channel, whatsapp):
    whatsapp.templates = [listed_template("appointment", "fr", "Bonjour {{1}}, à {{2}}.")]

    lines = sync(synced_channel, "--json").splitlines()

    assert [json.loads(line) for line in lines] == [
        {"name": "appointment", "locale": "fra", "status": "approved", "body_variables": 2}
    ]
