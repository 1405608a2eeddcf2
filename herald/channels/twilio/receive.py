"""Twilio's incoming-message webhook (`/c/tw/<channel uuid>/<secret>/receive`): From, Body, MessageSid and the
media (NumMedia, MediaUrl<N>, MediaContentType<N>). With Advanced Opt-Out, Twilio says a message was its STOP
keyword (`OptOutType=STOP`): the contact is stopped whatever the workspace's stop words; its START keyword
(`OptOutType=START`) makes it active again whatever the workspace's start words."""

from django.http import HttpRequest, QueryDict

from herald.channels.base import (
    MAX_EXTERNAL_ID,
    MAX_INCOMING_TEXT,
    CallbackEvent,
    IncomingMessage,
    StartSignal,
    StopSignal,
)
from herald.channels.callback_requests import CallbackRejected
from herald.channels.incoming import sender_urn, storable_text
from herald.channels.models import Channel
from herald.channels.twilio.params import required, signed_params

RECEIVE = "receive"
# Twilio takes at most 10 media a message.
MAX_MEDIA = 10


def read_incoming(request: HttpRequest, channel: Channel) -> list[CallbackEvent]:
    params = signed_params(request, channel)
    urn = sender_urn(channel, required(params, "From"))
    text = storable_text(params.get("Body") or "")
    if len(text) > MAX_INCOMING_TEXT:
        raise CallbackRejected(400, f"Body is longer than {MAX_INCOMING_TEXT:,} characters")
    sid = required(params, "MessageSid")
    if len(sid) > MAX_EXTERNAL_ID:
        raise CallbackRejected(400, f"MessageSid is longer than {MAX_EXTERNAL_ID} characters")
    events: list[CallbackEvent] = [IncomingMessage(urn, text, external_id=sid, attachments=_media(params))]
    opt_out = (params.get("OptOutType") or "").upper()
    if opt_out == "STOP":
        events.append(StopSignal(urn))
    elif opt_out == "START":
        events.append(StartSignal(urn))
    return events


def _media(params: QueryDict) -> tuple[str, ...]:
    try:
        count = int(params.get("NumMedia") or 0)
    except ValueError:
        raise CallbackRejected(400, f"NumMedia must be a number, got {params['NumMedia'][:20]!r}") from None
    if not 0 <= count <= MAX_MEDIA:
        raise CallbackRejected(400, f"NumMedia must be 0 to {MAX_MEDIA}, got {count}")
    media = []
    for n in range(count):
        url = required(params, f"MediaUrl{n}")
        content_type = (params.get(f"MediaContentType{n}") or "application/octet-stream").strip()
        media.append(f"{content_type}:{url}")
    return tuple(media)
