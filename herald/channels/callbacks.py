"""What every channel type's callback endpoint shares (`/c/<type>/<channel uuid>/<secret>/<action>`: delivery
reports now, incoming messages later): finding the channel, checking the URL's secret, reading the request's
parameters with the API's strict parsers, and clear JSON answers (every refusal logged, so a misconfigured gateway
shows up, without the secret).

A view is wrapped with `@channel_callback(type code)` and receives the checked channel:

    @channel_callback("external")
    def receive(request, channel, action): ...

Nothing about a channel is touched before its secret is checked: a request without the right one gets a 403 and
changes nothing, and so does any request to a disabled channel.
"""

import functools
import hmac
import io
import logging
import uuid

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from rest_framework.exceptions import ParseError

from herald.api.v2.parsers import StrictFormParser, StrictJSONParser
from herald.channels.logfilters import redact_callback_secrets
from herald.channels.models import Channel
from herald.channels.types import get_type
from herald.msgs.models import Msg
from herald.msgs.status import apply_status

logger = logging.getLogger("herald.channels.callbacks")


class CallbackRejected(Exception):
    def __init__(self, status_code: int, message: str):
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def rejected(request, exc: CallbackRejected) -> JsonResponse:
    logger.warning(
        "channel callback refused with %s: %s %s: %s",
        exc.status_code,
        request.method,
        redact_callback_secrets(request.get_full_path()),
        exc.message,
    )
    return JsonResponse({"error": exc.message}, status=exc.status_code)


def authenticated_channel(channel_type: str, channel_uuid: str, secret: str) -> Channel:
    """The channel a callback URL names, if the URL carries its secret and it is enabled."""
    try:
        value = uuid.UUID(channel_uuid)
    except ValueError:
        value = None
    channel = Channel.objects.filter(uuid=value, channel_type=channel_type).first() if value else None
    if channel is None:
        raise CallbackRejected(404, f"no {channel_type} channel with UUID {channel_uuid}")
    # Constant-time, so the answer's timing says nothing about how much of a guess was right.
    if not channel.callback_secret or not hmac.compare_digest(channel.callback_secret.encode(), secret.encode()):
        raise CallbackRejected(
            403, "wrong secret in the callback URL: `herald channel show` prints the channel's current URLs"
        )
    if not channel.is_active:
        raise CallbackRejected(403, f"channel {channel.uuid} is disabled: `herald channel enable` turns it back on")
    return channel


def channel_callback(channel_type: str):
    """Make `view(request, channel, **url_kwargs)` a callback endpoint of `channel_type` (GET and POST, no CSRF:
    the caller is a gateway). `CallbackRejected` raised anywhere inside becomes its JSON answer."""

    def decorate(view):
        @csrf_exempt
        @require_http_methods(["GET", "POST"])
        @functools.wraps(view)
        def endpoint(request, channel_uuid: str, secret: str, **kwargs):
            try:
                return view(request, authenticated_channel(channel_type, channel_uuid, secret), **kwargs)
            except CallbackRejected as exc:
                return rejected(request, exc)

        return endpoint

    return decorate


@csrf_exempt
def missing_secret(request, **_):
    """The URL shape from before callbacks had secrets (`/c/ex/<uuid>/<action>`): refused, saying what changed."""
    return rejected(
        request,
        CallbackRejected(
            403,
            "callback URLs need the channel's secret: /c/<type>/<channel uuid>/<secret>/<action>; "
            "`herald channel show` prints them",
        ),
    )


def callback_urls(channel: Channel) -> dict[str, str]:
    """`{action: URL}` for every callback of the channel's type, with its secret: absolute when HERALD_BASE_URL is
    set, else paths to put the address gateways reach Herald at in front of. Empty for a type without callbacks."""
    kind = get_type(channel.channel_type)
    return {
        action: settings.BASE_URL
        + reverse(
            kind.callback_url_name,
            kwargs={"channel_uuid": str(channel.uuid), "secret": channel.callback_secret, "action": action},
        )
        for action in kind.callback_actions
    }


def request_value(request, name: str) -> str | None:
    """A parameter from the query string, else from the body (JSON object, urlencoded or multipart form)."""
    if request.GET.get(name):
        return request.GET[name]
    value = request_body(request).get(name)
    return None if value is None or value == "" else str(value)


def request_body(request) -> dict:
    """The body's parameters, read once per request by the API's strict parsers: bad JSON, JSON nested too deep,
    undecodable text or too many fields are a 400 naming the problem (a body over HERALD_MAX_BODY_BYTES is the
    API's 413)."""
    if not hasattr(request, "_callback_body"):
        request._callback_body = _parse_body(request)
    return request._callback_body


def _parse_body(request) -> dict:
    content_type = request.content_type or ""
    context = {"encoding": request.encoding or settings.DEFAULT_CHARSET}
    try:
        if content_type == "application/json" or content_type.endswith("+json"):
            data = StrictJSONParser().parse(io.BytesIO(request.body), parser_context=context) if request.body else {}
            if not isinstance(data, dict):
                raise CallbackRejected(400, "JSON body must be an object")
            return data
        if request.method != "POST":
            return {}
        if content_type == "application/x-www-form-urlencoded":
            return StrictFormParser().parse(io.BytesIO(request.body), parser_context=context)
        return request.POST
    except ParseError as exc:
        raise CallbackRejected(400, str(exc.detail)) from None
    except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent) as exc:
        raise CallbackRejected(400, f"unreadable form body: {exc}") from None


def apply_report(channel: Channel, msg_id: str | None, new_status: str) -> dict:
    """Apply a reported status to the message `msg_id` (its UUID) of `channel`; the response's `data` item."""
    if not msg_id:
        raise CallbackRejected(400, "missing id: give the message UUID as `id` in the query string or the body")
    try:
        msg_uuid = uuid.UUID(msg_id.strip())
    except ValueError:
        raise CallbackRejected(400, f"id must be a message UUID, got {msg_id[:100]!r}") from None
    msg = Msg.objects.filter(uuid=msg_uuid, channel=channel, direction="O").first()
    if msg is None:
        raise CallbackRejected(400, f"no message {msg_uuid} was sent through this channel")

    changed = apply_status(msg, new_status)
    if not changed:
        logger.info("delivery report %s for message %s ignored: it is already %s", new_status, msg_uuid, msg.status)
    return {
        "type": "status",
        "channel_uuid": str(channel.uuid),
        "msg_uuid": str(msg.uuid),
        "status": msg.get_status_display(),
        "changed": changed,
    }
