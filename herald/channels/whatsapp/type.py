"""`whatsapp`: WhatsApp Business through Meta's Cloud API (Graph API).

Sending is `send.py` (request bodies and the 24-hour window) and `errors.py` (WhatsApp's error codes); message
templates (listed for `herald channel sync-templates`, sent as `template` messages) are `templates.py`; the webhook,
its verify-token check and its signature, is `webhook.py`.
"""

import json

from django.http import HttpRequest

from herald.channels import http
from herald.channels.base import (
    CallbackEvents,
    ChannelConfigError,
    ChannelType,
    OutgoingMsg,
    PermanentSendError,
    ProviderTemplate,
    SendError,
    SendResult,
    urn_of,
)
from herald.channels.callback_requests import CallbackRejected
from herald.channels.models import Channel
from herald.channels.templates import sync_templates

from . import config, errors, send, templates, webhook


class WhatsAppType(ChannelType):
    code = "whatsapp"
    name = "WhatsApp Cloud API"
    schemes = ("whatsapp",)
    config_keys = config.KEYS
    required_config = config.REQUIRED
    config_defaults = {"base_url": config.GRAPH_URL}
    # Meta's default throughput per business phone number.
    default_tps = 80
    callback_path = "wa"
    callback_url_name = "channels.whatsapp.callback"
    callback_actions = (webhook.WEBHOOK,)
    callback_help = (
        "Webhook for the Meta app (WhatsApp > Configuration: Callback URL, with the channel's verify_token as"
        " Verify token; subscribe to the `messages` field):"
    )
    ignores_unknown_reports = True

    def read_callback(self, request: HttpRequest, channel: Channel, action: str) -> CallbackEvents:
        if action != webhook.WEBHOOK:
            raise CallbackRejected(404, f"no callback {action!r} for WhatsApp channels")
        if request.method == "GET":
            return webhook.verify_challenge(request, channel)
        return webhook.read_notification(request, channel)

    def verify_credentials(self, channel_config: dict[str, str], address: str) -> None:
        url = f"{channel_config['base_url']}/{channel_config['phone_number_id']}"
        try:
            answer = http.request("GET", url, headers=_auth(channel_config), check=False)
        except SendError as exc:
            raise ChannelConfigError(f"could not ask WhatsApp about phone_number_id: {exc.detail}") from None
        if answer.status_code != 200:
            _, detail = errors.describe(answer)
            raise ChannelConfigError(f"access_token / phone_number_id refused: {detail}")

    def activate(self, channel: Channel, callback_urls: dict[str, str]) -> str:
        # With the business account's ID the templates come at once: a broadcast may name them straight away.
        if not channel.config.get("business_account_id"):
            return ""
        return "Message templates: " + sync_templates(self, channel).summary()

    def fetch_templates(self, channel: Channel) -> list[ProviderTemplate]:
        return templates.fetch(channel, _auth(channel.config))

    def send(self, channel: Channel, msg: OutgoingMsg) -> SendResult:
        to = urn_of(msg).split(":", 1)[1].removeprefix("+")
        if msg.templating:
            # A template may go inside the 24-hour window or outside it (as RapidPro sends it either way).
            bodies = [send.template_payload(to, templates.template_message(msg.templating))]
        else:
            send.check_service_window(msg)
            bodies = send.payloads(to, msg)
        url = f"{channel.config['base_url']}/{channel.config['phone_number_id']}/messages"
        headers = {**_auth(channel.config), "Content-Type": "application/json"}
        external_id = None
        for body in bodies:
            answer = http.request("POST", url, content=_json(body), headers=headers, check=False)
            if not 200 <= answer.status_code < 300:
                errors.raise_for_error(answer)
            external_id = external_id or _message_id(answer)
        return SendResult(external_id=external_id)


def _auth(channel_config: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {channel_config['access_token']}"}


def _json(body: object) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def _message_id(answer: http.Answer) -> str:
    body = answer.json()
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict) or "id" not in messages[0]:
        raise PermanentSendError(f"WhatsApp's answer has no message id: {answer.snippet or '(empty)'}")
    return str(messages[0]["id"])
