"""FakeWhatsApp: the WhatsApp Cloud API (Graph API) on 127.0.0.1, as Meta's reference describes it.

- `GET /{phone_number_id}` with `Authorization: Bearer <token>`: the phone number's details;
- `POST /{phone_number_id}/messages`, JSON: checked as the Cloud API checks it (`messaging_product`, `to`, `type`
  and its object; text at most 4096 characters; at most 3 reply buttons of 20 characters, 10 list rows of 24), then
  `{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid..."}]}`;
- `GET /{business_account_id}/message_templates?limit=&after=`: `templates` (Graph's shape), paged with
  `paging.cursors.after` and a `paging.next` URL on every page but the last;
- a `template` message is checked against those templates: an unknown name or language (or one not approved) is
  refused with 404 + code 132001, a body parameter count other than the body's `{{n}}` count with 132000, a
  parameter that is no text with 132012, as the Cloud API refuses them;
- refusals in Graph's error shape: 401 + code 190 for a wrong token, 400 + code 100 for a bad parameter;
- `webhook(...)` / `verify(...)`: the notifications Meta POSTs, signed with the app secret, and its GET handshake.
"""

import base64
import hashlib
import hmac
import itertools
import json
import re
from typing import Any
from urllib.parse import urlencode

import httpx

from herald.testing.gateway import Recorded, Reply
from herald.testing.providers.base import FakeProvider, json_reply

TOKEN = "EAAG-fake-access-token"
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "fake-app-secret"
VERIFY_TOKEN = "fake-verify-token"
CONFIG = {
    "access_token": TOKEN,
    "phone_number_id": PHONE_NUMBER_ID,
    "app_secret": APP_SECRET,
    "verify_token": VERIFY_TOKEN,
}
BUSINESS_ACCOUNT_ID = "102290129340398"
BENCH_URN = "whatsapp:250788123456"


def listed_template(
    name: str, language: str, body: str, status: str = "APPROVED", more: tuple[dict[str, Any], ...] = ()
) -> dict[str, Any]:
    """A template as `message_templates` lists it (its id made from its name and language)."""
    template_id = str(int(hashlib.sha256(f"{name}:{language}".encode()).hexdigest()[:12], 16))
    components = [{"type": "BODY", "text": body}, *more]
    return {"name": name, "language": language, "status": status, "category": "UTILITY", "id": template_id,
            "parameter_format": "POSITIONAL", "components": components}  # fmt: skip


TEMPLATES = [
    listed_template("appointment", "en_US", "Hi {{1}}, see you on {{2}}."),
    listed_template("appointment", "fr", "Bonjour {{1}}, à {{2}}."),
    listed_template("welcome", "en_US", "Welcome to Herald!", more=({"type": "FOOTER", "text": "Reply STOP to end"},)),
    listed_template("promo", "en_US", "Sale {{1}}", status="REJECTED"),
]
MEDIA = ("image", "audio", "video", "document")


def graph_error(status: int, code: int, message: str, kind: str = "OAuthException", **extra: Any) -> Reply:
    return json_reply(
        status, {"error": {"message": message, "type": kind, "code": code, **extra, "fbtrace_id": "AbCdEfGh123"}}
    )


def template_error(status: int, code: int, title: str, details: str) -> Reply:
    error_data = {"messaging_product": "whatsapp", "details": details}
    return graph_error(status, code, f"(#{code}) {title}", error_data=error_data)


def invalid(details: str) -> Reply:
    return graph_error(400, 100, "(#100) Invalid parameter", error_data={"messaging_product": "whatsapp",
                                                                         "details": details})  # fmt: skip


class FakeWhatsApp(FakeProvider):
    def __init__(self, port: int = 0):
        super().__init__(port)
        self._ids = itertools.count(1)
        self.templates: list[dict[str, Any]] = [dict(t) for t in TEMPLATES]
        # Graph's default `limit`, and the most it gives a page whatever `limit` asks (tests make it small to page).
        self.page_size = self.max_page_size = 25

    def answer(self, request: Recorded) -> Reply:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        path = request.path.split("?", 1)[0]
        if request.method == "GET" and path == f"/{PHONE_NUMBER_ID}":
            return json_reply(200, {"verified_name": "Herald Test", "display_phone_number": "+1 555-010-0000",
                                    "quality_rating": "GREEN", "id": PHONE_NUMBER_ID})  # fmt: skip
        if request.method == "POST" and path == f"/{PHONE_NUMBER_ID}/messages":
            return self._message(request)
        if request.method == "GET" and path == f"/{BUSINESS_ACCOUNT_ID}/message_templates":
            return self._template_page(request)
        return graph_error(400, 100, f"Unsupported {request.method} request. Object with ID does not exist",
                           "GraphMethodException", error_subcode=33)  # fmt: skip

    def _message(self, request: Recorded) -> Reply:
        try:
            body = request.json
        except ValueError:
            return invalid("Request body is not valid JSON")
        if not isinstance(body, dict):
            return invalid("Request body must be a JSON object")
        if body.get("messaging_product") != "whatsapp":
            return invalid("The parameter messaging_product is required.")
        to, kind = body.get("to"), body.get("type", "text")
        if not isinstance(to, str) or not to.isdigit():
            return invalid("The parameter to is required.")
        problem = self._content_problem(kind, body.get(kind))
        if problem:
            return invalid(problem)
        refusal = self._template_refusal(body["template"]) if kind == "template" else None
        if refusal is not None:
            return refusal
        wamid = f"wamid.HBgM{next(self._ids):012d}"
        return json_reply(200, {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                                "messages": [{"id": wamid}]})  # fmt: skip

    def _content_problem(self, kind: Any, content: Any) -> str:
        if not isinstance(content, dict):
            return f"The parameter {kind} is required."
        if kind == "text":
            text = content.get("body")
            if not isinstance(text, str) or not text:
                return "The parameter text['body'] is required."
            return "Param text['body'] must be at most 4096 characters long." if len(text) > 4096 else ""
        if kind in MEDIA:
            return "" if isinstance(content.get("link"), str) else f"The parameter {kind}['link'] is required."
        if kind == "interactive":
            return self._interactive_problem(content)
        if kind == "template":
            return ""  # checked by _template_refusal
        return f"Unsupported message type {kind}"

    def _interactive_problem(self, content: dict[str, Any]) -> str:
        action = content.get("action") or {}
        if not isinstance((content.get("body") or {}).get("text"), str):
            return "The parameter interactive['body']['text'] is required."
        if content.get("type") == "button":
            buttons = action.get("buttons") or []
            if not 1 <= len(buttons) <= 3:
                return "Param interactive['action']['buttons'] must have between 1 and 3 elements."
            if any(len(b["reply"]["title"]) > 20 for b in buttons):
                return "Button title length invalid. Should be at most 20 characters."
            return ""
        if content.get("type") == "list":
            rows = [row for section in action.get("sections") or [] for row in section.get("rows") or []]
            if not 1 <= len(rows) <= 10:
                return "Total row count exceed max allowed count: 10"
            if any(len(row["title"]) > 24 for row in rows) or not action.get("button"):
                return "Row title length invalid. Should be at most 24 characters."
            return ""
        return "The parameter interactive['type'] is required."

    def _template_page(self, request: Recorded) -> Reply:
        query = request.query
        try:
            limit = min(int(query.get("limit", [self.page_size])[0]), self.max_page_size)
            start = int(base64.b64decode(query["after"][0]).decode()) if "after" in query else 0
        except (ValueError, UnicodeDecodeError):
            return graph_error(400, 100, "(#100) Invalid parameter")
        page = self.templates[start : start + limit]
        end = start + len(page)
        cursor = base64.b64encode(str(end).encode()).decode()
        paging: dict[str, Any] = {
            "cursors": {"before": base64.b64encode(str(start).encode()).decode(), "after": cursor}
        }
        if end < len(self.templates):
            paging["next"] = f"{self.base_url}/{BUSINESS_ACCOUNT_ID}/message_templates?limit={limit}&after={cursor}"
        return json_reply(200, {"data": page, "paging": paging})

    def _template_refusal(self, content: dict[str, Any]) -> Reply | None:
        name, language = content.get("name"), (content.get("language") or {}).get("code")
        if not isinstance(name, str) or not isinstance(language, str):
            return invalid("The parameters template['name'] and template['language']['code'] are required.")
        approved = [t for t in self.templates if t["status"] == "APPROVED"]
        found = next((t for t in approved if (t["name"], t["language"]) == (name, language)), None)
        if found is None:
            details = f"template name ({name}) does not exist in {language}"
            return template_error(404, 132001, "Template name does not exist in the translation", details)
        body = next((c for c in found["components"] if c["type"] == "BODY"), {"text": ""})
        expected = len(set(re.findall(r"{{\s*(\d+)\s*}}", body["text"])))
        components = content.get("components") or []
        given = [p for c in components if c.get("type") == "body" for p in c.get("parameters") or []]
        if len(given) != expected:
            details = (
                f"body: number of localizable_params ({len(given)}) does not match the expected number ({expected})"
            )
            return template_error(
                400, 132000, "Number of parameters does not match the expected number of params", details
            )
        if any(p.get("type") != "text" or not isinstance(p.get("text"), str) or not p["text"] for p in given):
            details = "body: each parameter must be a non-empty text"
            return template_error(
                400, 132012, "Parameter format does not match format in the created template", details
            )
        return None

    # Meta's side of the webhook -----------------------------------------------------------------------------------

    def webhook(self, url: str, value: dict[str, Any], *, secret: str = APP_SECRET,
                signature: str | None = None) -> httpx.Response:  # fmt: skip
        """POST a `messages` change as Meta does: the raw JSON body signed with the app secret."""
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550100000", "phone_number_id": PHONE_NUMBER_ID},
            **value,
        }
        body = {"object": "whatsapp_business_account",
                "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]}  # fmt: skip
        raw = json.dumps(body).encode()
        if signature is None:
            signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
        return self.call_back(url, content=raw, headers=headers)

    def verify(self, url: str, token: str = VERIFY_TOKEN, challenge: str = "1158201444") -> httpx.Response:
        """The GET handshake Meta makes when the callback URL is saved."""
        query = urlencode({"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": token})
        return self.call_back(f"{url}?{query}", method="GET")


FAKE = FakeWhatsApp


def bench_channel(workspace, fake: FakeWhatsApp):
    """A channel pointed at `fake`, unlimited rate, for bench/providers.py. Its messages go only to contacts whose
    `last_seen_on` is within 24 hours (WhatsApp's service window): the bench's contacts need it set, else every
    message fails before the call."""
    from herald.channels.registry import create_channel  # noqa: PLC0415 — Django is set up by the bench first

    channel = create_channel(workspace, "whatsapp", "WhatsApp", config={**CONFIG, "base_url": fake.base_url})
    channel.tps = None
    channel.save(update_fields=["tps"])
    return channel
