"""`herald channel add --type whatsapp`: every key required, the credentials asked of (fake) WhatsApp, the webhook
URL printed, and no secret in what is printed."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from herald.channels.models import Channel
from herald.channels.registry import get_type
from herald.testing.providers import whatsapp as bench_hook
from herald.testing.providers.whatsapp import APP_SECRET, CONFIG, PHONE_NUMBER_ID, TOKEN, FakeWhatsApp


def add(workspace, whatsapp, *extra, **config):
    values = {**CONFIG, "base_url": whatsapp.base_url, **config}
    pairs = [f"{key}={value}" for key, value in values.items() if value is not None]
    out = io.StringIO()
    call_command("channel", "add", f"--workspace={workspace.uuid}", "--type=whatsapp", "--name=WhatsApp",
                 "--config", *pairs, *extra, stdout=out, stderr=io.StringIO())  # fmt: skip
    return out.getvalue()


def test_add_checks_the_number_with_the_token_and_prints_the_webhook_without_secrets(workspace, whatsapp, settings):
    settings.BASE_URL = "https://herald.example.org"
    output = add(workspace, whatsapp, "--json")

    channel = Channel.objects.get()
    (check,) = whatsapp.requests
    assert (check.method, check.path, check.headers["authorization"]) == (
        "GET",
        f"/{PHONE_NUMBER_ID}",
        f"Bearer {TOKEN}",
    )
    shown = json.loads(output)
    assert (shown["type"], shown["schemes"], shown["tps"]) == ("whatsapp", ["whatsapp"], 80)
    assert shown["callback_urls"] == {
        "webhook": f"https://herald.example.org/c/wa/{channel.uuid}/{channel.callback_secret}/webhook"
    }
    for secret in (TOKEN, APP_SECRET):
        assert secret not in output
    assert shown["config"]["phone_number_id"] == PHONE_NUMBER_ID
    assert channel.config == {**CONFIG, "base_url": whatsapp.base_url}


@pytest.mark.parametrize("missing", ["access_token", "phone_number_id", "app_secret", "verify_token"])
def test_each_key_is_required_by_name(workspace, whatsapp, missing):
    with pytest.raises(CommandError, match=f"{missing} is required for channel type 'whatsapp'"):
        add(workspace, whatsapp, **{missing: None})
    assert not Channel.objects.exists()
    assert whatsapp.requests == []


def test_a_wrong_token_is_refused_with_whatsapps_words(workspace, whatsapp):
    with pytest.raises(CommandError, match="access_token / phone_number_id refused: WhatsApp error 190: Invalid OAuth"):
        add(workspace, whatsapp, access_token="wrong")
    assert not Channel.objects.exists()


def test_an_unknown_phone_number_id_is_refused(workspace, whatsapp):
    with pytest.raises(CommandError, match="WhatsApp error 100: Unsupported GET request"):
        add(workspace, whatsapp, phone_number_id="123")
    assert not Channel.objects.exists()


def test_the_default_base_url_is_the_graph_api(workspace):
    assert get_type("whatsapp").validate_config(CONFIG)["base_url"] == "https://graph.facebook.com/v26.0"


def test_the_bench_hook_makes_an_unlimited_channel_the_fake_accepts(workspace, whatsapp):
    channel = bench_hook.bench_channel(workspace, whatsapp)
    assert (bench_hook.FAKE, channel.tps, channel.schemes) == (FakeWhatsApp, None, ["whatsapp"])
    assert bench_hook.BENCH_URN.startswith("whatsapp:")
