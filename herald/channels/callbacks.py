"""What every channel type's callback endpoint shares (`/c/<type>/<channel uuid>/<secret>/<action>`: delivery
reports now, incoming messages later): finding the channel, checking the URL's secret, and clear JSON answers
(every refusal logged, so a misconfigured gateway shows up, without the secret). Reading the request's parameters
strictly is herald/channels/callback_requests.py; what a report means is the channel type's `read_report`, and
applying it is `herald.msgs.reports`, which also routes the URLs.

A view is wrapped with `@channel_callback(type code)` and receives the checked channel:

    @channel_callback("external")
    def receive(request, channel, action): ...

Nothing about a channel is touched before its secret is checked: a request without the right one gets a 403 and
changes nothing, and so does any request to a disabled channel.
"""

import functools
import hmac
import logging
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from herald.channels.base import ChannelConfigError
from herald.channels.callback_requests import CallbackRejected
from herald.channels.logfilters import redact_callback_secrets
from herald.channels.models import Channel
from herald.channels.registry import get_type

logger = logging.getLogger("herald.channels.callbacks")


def rejected(request: HttpRequest, exc: CallbackRejected) -> JsonResponse:
    logger.warning(
        "channel callback refused with %s: %s %s: %s",
        exc.status_code,
        request.method,
        redact_callback_secrets(request.get_full_path()),
        exc.message,
    )
    # Courier's error answer (`WriteError`: "message" and "data"), which gateways set up for RapidPro read, and
    # "error", as Herald's callbacks answered before.
    body = {"message": "Error", "data": [{"type": "error", "error": exc.message}], "error": exc.message}
    return JsonResponse(body, status=exc.status_code)


def authenticated_channel(channel_type: str, channel_uuid: str, secret: str) -> Channel:
    """The channel a callback URL names, if the URL carries its secret and it is enabled."""
    try:
        value = uuid.UUID(channel_uuid)
    except ValueError:
        value = None
    # With its workspace: what a callback does next reads it (its country, its opt-out words).
    channels = Channel.objects.select_related("workspace")
    channel = channels.filter(uuid=value, channel_type=channel_type).first() if value else None
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


# A callback view: `view(request, channel, **url_kwargs)`; the endpoint Django routes to.
CallbackView = Callable[..., HttpResponse]
Endpoint = Callable[..., HttpResponse]


def channel_callback(channel_type: str) -> Callable[[CallbackView], Endpoint]:
    """Make `view(request, channel, **url_kwargs)` a callback endpoint of `channel_type` (GET and POST, no CSRF:
    the caller is a gateway). `CallbackRejected` raised anywhere inside becomes its JSON answer."""

    def decorate(view: CallbackView) -> Endpoint:
        @csrf_exempt
        @require_http_methods(["GET", "POST"])
        @functools.wraps(view)
        def endpoint(request: HttpRequest, channel_uuid: str, secret: str, **kwargs: str) -> HttpResponse:
            try:
                return view(request, authenticated_channel(channel_type, channel_uuid, secret), **kwargs)
            except CallbackRejected as exc:
                return rejected(request, exc)

        return endpoint

    return decorate


@csrf_exempt
def missing_secret(request: HttpRequest, **_: str) -> JsonResponse:
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
    return {action: kind.callback_url(channel, action) for action in kind.callback_actions}


def activate_channel(channel: Channel) -> str:
    """A new channel's type tells its provider where to call back (Telegram's setWebhook); the line saying what was
    done. If the provider refuses, the channel is deleted again and `ChannelConfigError` says why: `herald channel
    add` and the web form both leave no channel half set up."""
    try:
        return get_type(channel.channel_type).activate(channel, callback_urls(channel))
    except ChannelConfigError:
        channel.delete()
        raise
