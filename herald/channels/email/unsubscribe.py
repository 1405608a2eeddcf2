"""The unsubscribe link each e-mail carries (`List-Unsubscribe`, RFC 8058 one-click), and reading a click on it.

The link is the channel's `unsubscribe` callback URL with the message's UUID, the recipient's URN and a token:

    /c/email/<channel uuid>/<channel secret>/unsubscribe?msg=<uuid>&urn=mailto:...&token=<HMAC of both>

- a POST (the mail client's one-click `List-Unsubscribe=One-Click`, or the button of the page below) stops that
  URN's contact;
- a GET answers a small page whose button makes that POST: mail scanners follow links, so a GET never stops.

The URL's channel secret is in every e-mail, so it can't key the token: the token is keyed by the server's
SECRET_KEY and the channel secret together, and a link stops only its own recipient (a changed URN or message is
a 403). Changing HERALD_SECRET_KEY or the channel's secret voids the links already sent.
"""

import hashlib
import hmac
from html import escape
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from herald.channels.base import Challenge, StopSignal
from herald.channels.callback_requests import CallbackRejected, request_value
from herald.channels.models import Channel

ACTION = "unsubscribe"
URL_NAME = "channels.email.callback"
_TOKEN_HEX_CHARS = 32  # 128 bits of HMAC-SHA256: more than anyone can guess


def unsubscribe_url(callback_url: str | None, channel: Channel, msg_uuid: str, urn: str) -> str | None:
    """The message's unsubscribe link, on the channel's absolute `callback_url` for ACTION; None without one (no
    HERALD_BASE_URL: an e-mail needs an absolute URL)."""
    if callback_url is None:
        return None
    query = urlencode({"msg": msg_uuid, "urn": urn, "token": token(channel, msg_uuid, urn)})
    return f"{callback_url}?{query}"


def token(channel: Channel, msg_uuid: str, urn: str) -> str:
    key = hmac.new(settings.SECRET_KEY.encode(), b"email-unsubscribe\n" + channel.callback_secret.encode(),
                   hashlib.sha256).digest()  # fmt: skip
    return hmac.new(key, f"{msg_uuid}\n{urn}".encode(), hashlib.sha256).hexdigest()[:_TOKEN_HEX_CHARS]


def read_click(request: HttpRequest, channel: Channel) -> StopSignal | Challenge:
    """A POST: the stop of the link's recipient; a GET: the page asking to confirm. A link whose token doesn't
    match its message and URN is a 403."""
    msg_uuid = request.GET.get("msg", "")
    urn = request.GET.get("urn", "")
    given = request.GET.get("token", "")
    if not (msg_uuid and urn and given) or not hmac.compare_digest(
        given.encode(), token(channel, msg_uuid, urn).encode()
    ):
        raise CallbackRejected(403, "this unsubscribe link is not valid: its token does not match its message")
    if request.method == "POST":
        # RFC 8058's body is `List-Unsubscribe=One-Click`; the page's button sends the same. Read strictly (a 400
        # for a body that can't be parsed), though the token is what authorises the stop.
        request_value(request, "List-Unsubscribe")
        return StopSignal(urn)
    return Challenge(_confirmation_page(request, urn), content_type="text/html; charset=utf-8")


def _confirmation_page(request: HttpRequest, urn: str) -> str:
    address = escape(urn.removeprefix("mailto:"))
    action = escape(request.get_full_path())
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Unsubscribe</title></head><body>\n'
        f"<p>Stop all messages to {address}?</p>\n"
        f'<form method="post" action="{action}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>\n</body></html>\n'
    )


def unsubscribed_page() -> HttpResponse:
    """The answer to the POST: the person who clicked the button reads it; a mail client only needs the 200."""
    return HttpResponse(
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Unsubscribed</title></head><body>\n'
        "<p>You are unsubscribed: no more messages will be sent to this address.</p>\n</body></html>\n",
        content_type="text/html; charset=utf-8",
    )
