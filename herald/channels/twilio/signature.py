"""Twilio's request signature (`X-Twilio-Signature`): base64 of HMAC-SHA1, keyed with the account's auth token, over
the full URL Twilio called followed by each POST parameter, sorted by name, as name + value."""

import base64
import hashlib
import hmac
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest

from herald.channels.callback_requests import CallbackRejected

HEADER = "X-Twilio-Signature"


def expected(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    signed = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def called_url(request: HttpRequest) -> str:
    """The URL as Twilio saw it: behind a proxy only HERALD_BASE_URL knows Herald's public address."""
    if settings.BASE_URL:
        return str(settings.BASE_URL) + request.get_full_path()
    return request.build_absolute_uri()


def check(request: HttpRequest, auth_token: str, params: Iterable[tuple[str, str]]) -> None:
    """Refuse (403) a callback whose signature is missing or isn't Twilio's, before anything is read from it."""
    given = request.headers.get(HEADER, "")
    if not given or not hmac.compare_digest(given.encode(), expected(auth_token, called_url(request), params).encode()):
        raise CallbackRejected(403, f"missing or wrong {HEADER}: check the channel's auth_token and HERALD_BASE_URL")
