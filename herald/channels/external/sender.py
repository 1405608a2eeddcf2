"""`external`: a generic HTTP gateway, configured like RapidPro's "External API" channel.

Config keys (RapidPro's `method` and `body` are accepted as aliases of `send_method` and `send_body`):

| key | meaning |
| --- | --- |
| `send_url` (required) | URL to call, with variables; values are URL-encoded |
| `send_method` | `GET`, `POST` (default) or `PUT` |
| `content_type` | `urlencoded` (default), `json` or `xml`: the body's Content-Type and how values are escaped |
| `send_body` | request body for POST / PUT, with variables (a default that carries every variable if not given) |
| `send_authorization` | value of the `Authorization` header |
| `headers` | extra request headers, `{"Name": "value"}` |
| `mt_response_check` | text the gateway's answer must contain for the message to count as sent |

Variables: `{{text}}` (text, then one attachment URL per line), `{{to}}`, `{{to_no_plus}}`, `{{from}}`,
`{{from_no_plus}}`, `{{id}}` (the message UUID, which delivery reports quote back), `{{channel}}` (channel UUID),
`{{quick_replies}}`, and `{{session_status}}` (always empty, kept so RapidPro's default body works unchanged).
Each value is escaped for where it lands: `quote_plus` in the URL and urlencoded bodies, a JSON string in JSON
bodies (so `{"text": {{text}}}`; a quoted `"{{text}}"` is also accepted), XML character escapes in XML bodies.
`{{quick_replies}}` becomes `&quick_reply=Yes&quick_reply=No` in URLs and urlencoded bodies, a JSON array of
strings in JSON bodies and `<item>Yes</item><item>No</item>` in XML bodies.

Unlike RapidPro (docs/COMPATIBILITY.md, C16), variables are filled in one pass, so a message text that itself
contains `{{to}}` is sent as written, and a long text is sent in one request (the gateway splits SMS parts).
"""

import functools
import json
import re
from typing import Any
from urllib.parse import quote_plus, urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape as xml_escape

from django.http import HttpRequest

from herald.channels import http
from herald.channels.base import (
    ChannelConfigError,
    ChannelType,
    DeliveryReport,
    OutgoingMsg,
    PermanentSendError,
    SendResult,
    attachment_urls,
    quick_reply_texts,
    urn_of,
)
from herald.channels.models import Channel

from . import reports

METHODS = ("GET", "POST", "PUT")
CONTENT_TYPES = {
    "urlencoded": "application/x-www-form-urlencoded",
    "json": "application/json",
    "xml": "text/xml; charset=utf-8",
}
VARIABLES = ("text", "to", "to_no_plus", "from", "from_no_plus", "id", "channel", "quick_replies", "session_status")
DEFAULT_BODIES = {
    "urlencoded": (
        "id={{id}}&text={{text}}&to={{to}}&to_no_plus={{to_no_plus}}&from={{from}}&from_no_plus={{from_no_plus}}"
        "&channel={{channel}}{{quick_replies}}"
    ),
    "json": (
        '{"id": {{id}}, "text": {{text}}, "to": {{to}}, "to_no_plus": {{to_no_plus}}, "from": {{from}}, '
        '"from_no_plus": {{from_no_plus}}, "channel": {{channel}}, "quick_replies": {{quick_replies}}}'
    ),
    "xml": (
        "<message><id>{{id}}</id><text>{{text}}</text><to>{{to}}</to><to_no_plus>{{to_no_plus}}</to_no_plus>"
        "<from>{{from}}</from><from_no_plus>{{from_no_plus}}</from_no_plus><channel>{{channel}}</channel>"
        "<quick_replies>{{quick_replies}}</quick_replies></message>"
    ),
}
ALIASES = {"method": "send_method", "body": "send_body"}

# `{{name}}`, optionally wrapped in matching quotes (which JSON bodies drop: the JSON value brings its own).
_VARIABLE = re.compile(r"""(?P<quote>["']?)\{\{(?P<name>\w+)\}\}(?P=quote)""")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

# Values used to check that a configured URL and body come out well-formed.
_SAMPLE = {
    "text": 'Hello <world> & "friends"',
    "to": "+250788123123",
    "to_no_plus": "250788123123",
    "from": "+250788000000",
    "from_no_plus": "250788000000",
    "id": "0199a1c2-0000-7000-8000-000000000000",
    "channel": "0199a1c2-0000-7000-8000-000000000001",
    "session_status": "",
}
_SAMPLE_REPLIES = ["Yes", "No"]


def escape(value: str, content_type: str) -> str:
    if content_type == "json":
        return json.dumps(value, ensure_ascii=False)
    if content_type == "xml":
        return xml_escape(value, {'"': "&quot;", "'": "&apos;"})
    return quote_plus(value)


def render_quick_replies(replies: list[str], content_type: str) -> str:
    if content_type == "json":
        return json.dumps(replies, ensure_ascii=False)
    if content_type == "xml":
        return "".join(f"<item>{escape(reply, 'xml')}</item>" for reply in replies)
    return "".join(f"&quick_reply={quote_plus(reply)}" for reply in replies)


def render(template: str, values: dict[str, str], replies: list[str], content_type: str) -> str:
    """Fill in `template` in one pass, each value escaped for `content_type`."""

    def fill(match: re.Match[str]) -> str:
        name, quote = match["name"], match["quote"]
        if name == "quick_replies":
            value = render_quick_replies(replies, content_type)
        elif name in values:
            value = escape(values[name], content_type)
        else:
            return str(match[0])  # not ours: left as written (validation rejects these up front)
        return value if content_type == "json" else f"{quote}{value}{quote}"

    return _VARIABLE.sub(fill, template)


def braced(name: str) -> str:
    return "{{" + name + "}}"


def unknown_variables(template: str) -> list[str]:
    return [m["name"] for m in _VARIABLE.finditer(template) if m["name"] not in VARIABLES]


class ExternalType(ChannelType):
    code = "external"
    name = "External API"
    schemes = ("tel",)
    config_keys = {
        "send_url": "URL to call for each message, with {{variables}}",
        "send_method": "GET, POST (default) or PUT",
        "content_type": "urlencoded (default), json or xml",
        "send_body": "request body for POST / PUT, with {{variables}}",
        "send_authorization": "value of the Authorization header",
        "headers": "extra request headers, {name: value}",
        "mt_response_check": "text the gateway's answer must contain",
    }
    callback_path = "ex"
    callback_url_name = "channels.external.callback"
    callback_actions = reports.ACTIONS

    def read_report(self, request: HttpRequest, action: str) -> DeliveryReport:
        return reports.read_report(request, action)

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        config = dict(config or {})
        for alias, key in ALIASES.items():
            if alias in config:
                if key in config:
                    raise ChannelConfigError(f"give either {key!r} or its alias {alias!r}, not both")
                config[key] = config.pop(alias)
        config = super().validate_config(config)
        for key, value in config.items():
            if key != "headers" and not isinstance(value, str):
                raise ChannelConfigError(f"{key} must be a string")

        send_url = config.get("send_url", "").strip()
        if not send_url:
            raise ChannelConfigError("send_url is required")
        self._check_variables("send_url", send_url)
        rendered = urlsplit(render(send_url, _SAMPLE, _SAMPLE_REPLIES, "urlencoded"))
        if rendered.scheme not in ("http", "https") or not rendered.hostname:
            raise ChannelConfigError(f"send_url must be an http:// or https:// URL, got {send_url!r}")
        config["send_url"] = send_url

        method = config.get("send_method", "POST").strip().upper()
        if method not in METHODS:
            raise ChannelConfigError(f"send_method must be one of {', '.join(METHODS)}, got {method!r}")
        config["send_method"] = method

        content_type = config.get("content_type", "urlencoded").strip().lower()
        if content_type not in CONTENT_TYPES:
            raise ChannelConfigError(
                f"content_type must be one of {', '.join(CONTENT_TYPES)}, got {config['content_type']!r}"
            )
        config["content_type"] = content_type

        if method in ("POST", "PUT"):
            body = config.get("send_body") or DEFAULT_BODIES[content_type]
            self._check_body(body, content_type)
            config["send_body"] = body

        config["headers"] = self._check_headers(config.get("headers", {}))
        if "\n" in config.get("send_authorization", "") or "\r" in config.get("send_authorization", ""):
            raise ChannelConfigError("send_authorization must be on one line")
        return config

    @staticmethod
    def _check_variables(key: str, template: str) -> None:
        unknown = unknown_variables(template)
        if unknown:
            known = ", ".join(braced(name) for name in VARIABLES)
            raise ChannelConfigError(f"{key} uses an unknown variable {braced(unknown[0])} (known: {known})")

    def _check_body(self, body: str, content_type: str) -> None:
        self._check_variables("send_body", body)
        rendered = render(body, _SAMPLE, _SAMPLE_REPLIES, content_type)
        if content_type == "json":
            try:
                json.loads(rendered)
            except ValueError as exc:
                raise ChannelConfigError(
                    f"send_body is not valid JSON once its variables are filled in ({exc}); "
                    'write variables bare, e.g. {"text": {{text}}}'
                ) from None
        elif content_type == "xml":
            try:
                ElementTree.fromstring(rendered)
            except ElementTree.ParseError as exc:
                raise ChannelConfigError(f"send_body is not well-formed XML once filled in ({exc})") from None

    @staticmethod
    def _check_headers(headers: object) -> dict[str, str]:
        if not isinstance(headers, dict):
            raise ChannelConfigError('headers must be an object of names to values, e.g. {"X-Api-Key": "secret"}')
        for name, value in headers.items():
            if not _HEADER_NAME.match(name):
                raise ChannelConfigError(f"invalid header name {name!r}")
            if not isinstance(value, str) or "\n" in value or "\r" in value:
                raise ChannelConfigError(f"header {name} must be a one-line string")
        return dict(headers)

    def send(self, channel: Channel, msg: OutgoingMsg) -> SendResult:
        config = _validated(self, channel.config)
        to = urn_of(msg).split(":", 1)[1]
        address = channel.address or ""
        text = "\n".join(part for part in [msg.text, *attachment_urls(msg)] if part)
        values = {
            "text": text,
            "to": to,
            "to_no_plus": to.removeprefix("+"),
            "from": address,
            "from_no_plus": address.removeprefix("+"),
            "id": str(msg.uuid),
            "channel": str(channel.uuid),
            "session_status": "",
        }
        replies = quick_reply_texts(msg)
        content_type = config["content_type"]

        url = render(config["send_url"], values, replies, "urlencoded")
        headers = {}
        body = None
        if config["send_method"] in ("POST", "PUT"):
            body = render(config["send_body"], values, replies, content_type).encode()
            headers["Content-Type"] = CONTENT_TYPES[content_type]
        if config.get("send_authorization"):
            headers["Authorization"] = config["send_authorization"]
        headers.update(config["headers"])

        answer = http.request(config["send_method"], url, content=body, headers=headers)
        check = config.get("mt_response_check")
        if check and check not in answer.text:
            raise PermanentSendError(f"gateway answer does not contain {check!r}: {answer.snippet or '(empty)'}")
        return SendResult()


def _validated(channel_type: ExternalType, config: dict[str, Any]) -> dict[str, Any]:
    """A channel's config, checked once per distinct config rather than once per message."""
    try:
        return _validated_cached(channel_type, json.dumps(config, sort_keys=True))
    except ChannelConfigError as exc:
        raise PermanentSendError(f"channel config: {exc}") from exc


@functools.lru_cache(maxsize=256)
def _validated_cached(channel_type: ExternalType, config_json: str) -> dict[str, Any]:
    return channel_type.validate_config(json.loads(config_json))
