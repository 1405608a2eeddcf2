"""An `external` channel's configuration, as RapidPro's "External API" channel takes it, and its checks.

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

The variables and how each is escaped are in `template.py`.
"""

import json
import re
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

from herald.channels.base import ChannelConfigError

from .template import VARIABLES, braced, render, unknown_variables

KEYS = {
    "send_url": "URL to call for each message, with {{variables}}",
    "send_method": "GET, POST (default) or PUT",
    "content_type": "urlencoded (default), json or xml",
    "send_body": "request body for POST / PUT, with {{variables}}",
    "send_authorization": "value of the Authorization header",
    "headers": "extra request headers, {name: value}",
    "mt_response_check": "text the gateway's answer must contain",
}
ALIASES = {"method": "send_method", "body": "send_body"}
METHODS = ("GET", "POST", "PUT")
CONTENT_TYPES = {
    "urlencoded": "application/x-www-form-urlencoded",
    "json": "application/json",
    "xml": "text/xml; charset=utf-8",
}
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


def resolve_aliases(config: dict[str, Any] | None) -> dict[str, Any]:
    """The config with RapidPro's key names replaced by Herald's (a copy)."""
    config = dict(config or {})
    for alias, key in ALIASES.items():
        if alias in config:
            if key in config:
                raise ChannelConfigError(f"give either {key!r} or its alias {alias!r}, not both", field=key)
            config[key] = config.pop(alias)
    return config


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """A config of known keys (aliases resolved), checked and normalised: defaults filled in, the URL and body
    checked to come out well-formed once filled in. Raises `ChannelConfigError` naming the first bad key."""
    config = dict(config)
    for key, value in config.items():
        if key != "headers" and not isinstance(value, str):
            raise ChannelConfigError(f"{key} must be a string", field=key)

    send_url = config.get("send_url", "").strip()
    if not send_url:
        raise ChannelConfigError("send_url is required", field="send_url")
    _check_variables("send_url", send_url)
    rendered = urlsplit(render(send_url, _SAMPLE, _SAMPLE_REPLIES, "urlencoded"))
    if rendered.scheme not in ("http", "https") or not rendered.hostname:
        raise ChannelConfigError(f"send_url must be an http:// or https:// URL, got {send_url!r}", field="send_url")
    config["send_url"] = send_url

    method = config.get("send_method", "POST").strip().upper()
    if method not in METHODS:
        raise ChannelConfigError(
            f"send_method must be one of {', '.join(METHODS)}, got {method!r}", field="send_method"
        )
    config["send_method"] = method

    content_type = config.get("content_type", "urlencoded").strip().lower()
    if content_type not in CONTENT_TYPES:
        raise ChannelConfigError(
            f"content_type must be one of {', '.join(CONTENT_TYPES)}, got {config['content_type']!r}",
            field="content_type",
        )
    config["content_type"] = content_type

    if method in ("POST", "PUT"):
        body = config.get("send_body") or DEFAULT_BODIES[content_type]
        _check_body(body, content_type)
        config["send_body"] = body

    config["headers"] = _check_headers(config.get("headers", {}))
    if "\n" in config.get("send_authorization", "") or "\r" in config.get("send_authorization", ""):
        raise ChannelConfigError("send_authorization must be on one line", field="send_authorization")
    return config


def _check_variables(key: str, template: str) -> None:
    unknown = unknown_variables(template)
    if unknown:
        known = ", ".join(braced(name) for name in VARIABLES)
        raise ChannelConfigError(f"{key} uses an unknown variable {braced(unknown[0])} (known: {known})", field=key)


def _check_body(body: str, content_type: str) -> None:
    _check_variables("send_body", body)
    rendered = render(body, _SAMPLE, _SAMPLE_REPLIES, content_type)
    if content_type == "json":
        try:
            json.loads(rendered)
        except ValueError as exc:
            raise ChannelConfigError(
                f"send_body is not valid JSON once its variables are filled in ({exc}); "
                'write variables bare, e.g. {"text": {{text}}}',
                field="send_body",
            ) from None
    elif content_type == "xml":
        try:
            ElementTree.fromstring(rendered)
        except ElementTree.ParseError as exc:
            raise ChannelConfigError(
                f"send_body is not well-formed XML once filled in ({exc})", field="send_body"
            ) from None


def _check_headers(headers: object) -> dict[str, str]:
    if not isinstance(headers, dict):
        raise ChannelConfigError(
            'headers must be an object of names to values, e.g. {"X-Api-Key": "secret"}', field="headers"
        )
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise ChannelConfigError(f"invalid header name {name!r}", field="headers")
        if not isinstance(value, str) or "\n" in value or "\r" in value:
            raise ChannelConfigError(f"header {name} must be a one-line string", field="headers")
    return dict(headers)
