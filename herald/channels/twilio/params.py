"""A Twilio callback's form parameters, read strictly and only once its signature is checked."""

from django.http import HttpRequest, QueryDict

from herald.channels.callback_requests import CallbackRejected, request_body
from herald.channels.models import Channel
from herald.channels.twilio import signature


def signed_params(request: HttpRequest, channel: Channel) -> QueryDict:
    """The POST form Twilio sent (a 400 for a body that isn't one), refused with a 403 unless Twilio signed it with
    the channel's auth token."""
    if request.method != "POST" or request.content_type != "application/x-www-form-urlencoded":
        raise CallbackRejected(400, "Twilio's callbacks are POSTs of an application/x-www-form-urlencoded form")
    body = request_body(request)
    assert isinstance(body, QueryDict)  # a urlencoded body is read as a form
    pairs = [(name, value) for name, values in body.lists() for value in values]
    signature.check(request, channel.config["auth_token"], pairs)
    return body


def required(params: QueryDict, name: str) -> str:
    value = (params.get(name) or "").strip()
    if not value:
        raise CallbackRejected(400, f"field {name!r} required")
    return value
