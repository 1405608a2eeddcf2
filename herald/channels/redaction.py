"""Blanking secrets out of what a channel log stores: the requests Herald makes to a gateway and the callbacks it gets.

Two nets, so that a secret caught by neither would have to be both unnamed and unknown:
- **the channel's own secrets, by value**: whatever its config holds under a secret-sounding key (an `Authorization`
  value and the credentials inside it, header values such as `X-Api-Key`, a password in a URL, a `?api_key=` in the
  send URL), and its callback secret, are replaced wherever they appear (also URL-encoded);
- **anything named like a secret**: headers (`Authorization`, `Cookie`, `X-Auth-Token` ...), URL query and form
  fields (`password=`, `token=` ...), JSON members (`"api_key": "..."`), the password of a URL's `user:password@`,
  and the secret segment of a callback URL (herald/channels/logfilters.py).
"""

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

from herald.channels.logfilters import redact_callback_secrets

REDACTED = "********"

# Name fragments that make a header, a query / form field or a JSON member secret.
_SECRET_WORDS = r"auth|token|secret|passw|pwd|key|signature|credential|cookie|session"
SECRET_NAME = re.compile(_SECRET_WORDS, re.IGNORECASE)
# A value shorter than this is not replaced wherever it appears: it would blank out ordinary text ("on", "1").
MIN_SECRET_LENGTH = 4

# Every `name=value` pair and JSON `"name": "value"` member; the name decides (`_named_secret`). A pair starts only
# where a name starts (the look-behind), and names are bounded, so a long run of name characters is read once.
_PAIR = re.compile(r"(?<![\w.\-])([\w.\-]{1,128})=([^&\s\"'<]*)")
_JSON_MEMBER = re.compile(r'"([^"\\]{1,128})"(\s*:\s*)"((?:[^"\\]|\\.)*)"')
_URL_PASSWORD = re.compile(r"(://[^/:@\s]*:)[^@/\s]+@")


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


class Redactor:
    """Redacts text for one channel: its secrets (by value) and anything named like a secret."""

    def __init__(self, secrets: Iterable[str] = ()):
        values = {value for value in secrets if len(value) >= MIN_SECRET_LENGTH}
        encoded = {form for value in values for form in (quote(value, safe=""), quote_plus(value))}
        # Longest first, so a secret containing another is blanked whole.
        self._values = sorted(values | encoded, key=len, reverse=True)

    def text(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, REDACTED)
        text = _URL_PASSWORD.sub(rf"\g<1>{REDACTED}@", text)
        text = _PAIR.sub(_redact_pair, text)
        text = _JSON_MEMBER.sub(_redact_member, text)
        return redact_callback_secrets(text)

    def header(self, name: str, value: str) -> str:
        return REDACTED if is_secret_name(name) else self.text(value)


def _redact_pair(match: re.Match[str]) -> str:
    return f"{match[1]}={REDACTED}" if is_secret_name(match[1]) else match[0]


def _redact_member(match: re.Match[str]) -> str:
    return f'"{match[1]}"{match[2]}"{REDACTED}"' if is_secret_name(match[1]) else match[0]


def channel_secrets(config: dict[str, Any], callback_secret: str = "") -> list[str]:
    """The values in a channel's config (and its callback secret) that must never be stored in a log."""
    found = [callback_secret] if callback_secret else []
    for name, value in _walk(config):
        if not isinstance(value, str):
            continue
        if "://" in value:
            found += _secrets_in_url(value)
        if is_secret_name(name) and "{{" not in value:  # a template variable is filled in per message: no secret
            found += [value, *_credentials_in(value)]
    return found


def _walk(value: Any, name: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, name)
    else:
        yield name, value


def _credentials_in(value: str) -> list[str]:
    """`Bearer abc` holds `abc`; `Basic dXNlcjpwYXNz` holds `user:pass`, hence the password `pass` too."""
    scheme, _, credentials = value.partition(" ")
    if not credentials:
        return []
    found = [credentials.strip()]
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return found
        found += [decoded, decoded.partition(":")[2]]
    return found


def _secrets_in_url(url: str) -> list[str]:
    # A URL template may still hold {{variables}} elsewhere: only its literal parts are read here.
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return []
    found = [password] if password else []
    found += [value for name, value in parse_qsl(parts.query) if is_secret_name(name) and "{{" not in value]
    return found


def shown_config(config: dict[str, Any]) -> dict[str, Any]:
    """A channel's config as the CLI prints it: the values of secret-named keys (`auth_token`, `api_key`, a header
    such as `X-Api-Key` ...) blanked, so credentials reach no terminal log or pasted output."""
    shown: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            shown[key] = shown_config(value)
        elif is_secret_name(key) and value:
            shown[key] = REDACTED
        else:
            shown[key] = value
    return shown
