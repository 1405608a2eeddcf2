"""Delivery reports: a gateway tells Herald what became of a message it was given (and the door for everything
else a gateway calls back with: incoming messages and stop signals go on to `inbound.py`). The flow runs one way:
`herald.channels.callbacks` checks the channel's secret, the channel type's `read_report` reads the provider's
request (which message, which status name), and this module finds the channel's message and applies the status
(forward only: `status.apply_status`).

It also routes the callback URLs (`/c/...`, included by herald/urls.py), one set per channel type that has
callbacks, so a new type declares its `callback_path` and `read_report` and needs no line here.
"""

import logging
import time
from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path

from herald.channels.base import (
    CallbackEvent,
    Challenge,
    ChannelType,
    DeliveryReport,
    IncomingMessage,
    StartSignal,
    StopSignal,
)
from herald.channels.callback_requests import CallbackRejected
from herald.channels.callbacks import Endpoint, channel_callback, missing_secret, rejected
from herald.channels.channel_logs import callback_body, record_callback
from herald.channels.models import Channel
from herald.channels.registry import TYPES

from . import inbound
from .models import Msg, MsgStatus
from .status import apply_status

# The callbacks logger, so every answer to a gateway is logged in one place.
logger = logging.getLogger("herald.channels.callbacks")

STATUSES = {
    "sent": MsgStatus.SENT,
    "delivered": MsgStatus.DELIVERED,
    "read": MsgStatus.READ,
    "failed": MsgStatus.FAILED,
}


def apply_report(channel: Channel, report: DeliveryReport, *, ignore_unknown: bool = False) -> dict[str, Any]:
    """Apply a report to the channel's message it names (by UUID, else by the provider's id); the response's
    `data` item. A message this channel never sent is refused, or with `ignore_unknown` answered as ignored."""
    outgoing = Msg.objects.outgoing().filter(channel=channel)
    if report.msg_uuid is not None:
        msg = outgoing.filter(uuid=report.msg_uuid).first()
        named = str(report.msg_uuid)
    else:
        msg = outgoing.filter(external_id=report.external_id).first()
        named = f"with provider id {report.external_id}"
    if msg is None:
        if not ignore_unknown:
            raise CallbackRejected(400, f"no message {named} was sent through this channel")
        logger.info("delivery report %s for unknown message %s on channel %s ignored", report.status, named,
                    channel.uuid)  # fmt: skip
        return {"type": "status", "channel_uuid": str(channel.uuid), "msg_uuid": None, "status": report.status,
                "changed": False, "ignored": f"no message {named} was sent through this channel"}  # fmt: skip

    new_status = STATUSES[report.status]
    changed = apply_status(msg, new_status, detail=report.detail if new_status == MsgStatus.FAILED else "")
    if not changed:
        logger.info("delivery report %s for message %s ignored: it is already %s", new_status, msg.uuid, msg.status)
    return {
        "type": "status",
        "channel_uuid": str(channel.uuid),
        "msg_uuid": str(msg.uuid),
        "status": msg.get_status_display(),
        "changed": changed,
    }


def report_endpoint(kind: ChannelType) -> Endpoint:
    """The callback view of channel type `kind`: secret checked, the request read by the type, then applied: a
    delivery report here, an incoming message or a stop signal by `inbound.py`. Answered as courier answers."""

    @channel_callback(kind.code)
    def receive(request: HttpRequest, channel: Channel, action: str) -> HttpResponse:
        # Every callback the channel's secret let in is kept in its channel log, answer included, refused or not.
        started, body = time.monotonic(), callback_body(request)
        msg_uuid = None
        try:
            read = kind.read_callback(request, channel, action)
            events: Sequence[CallbackEvent] = read if isinstance(read, Sequence) else [read]
            challenge = next((event for event in events if isinstance(event, Challenge)), None)
            if challenge is not None:
                response: HttpResponse = HttpResponse(challenge.text, content_type=challenge.content_type)
            else:
                data = [_apply(kind, channel, event) for event in events]
                reports = [event for event in events if isinstance(event, DeliveryReport)]
                msg_uuid = reports[0].msg_uuid if len(reports) == 1 else None
                response = kind.callback_answer(request, action, data) or JsonResponse(
                    {"message": _ACCEPTED[type(events[0]) if len(events) == 1 else None], "data": data}
                )
        except CallbackRejected as exc:
            response = rejected(request, exc)
        record_callback(channel, request, body, response, started, msg_uuid)
        return response

    return receive


# courier's answer messages, by what was accepted (several events: a batch).
_ACCEPTED: dict[type | None, str] = {
    IncomingMessage: "Message Accepted",
    StopSignal: "Event Accepted",
    StartSignal: "Event Accepted",
    DeliveryReport: "Status Update Accepted",
    None: "Events Handled",
}


def _apply(kind: ChannelType, channel: Channel, event: CallbackEvent) -> dict[str, Any]:
    """Apply one event of a callback; its `data` item."""
    if isinstance(event, IncomingMessage):
        return inbound.received_item(channel, inbound.receive(channel, event).msg)
    if isinstance(event, StopSignal):
        inbound.stop(channel, event)
        return inbound.stop_item(channel, event)
    if isinstance(event, StartSignal):
        inbound.start(channel, event)
        return inbound.stop_item(channel, event)
    if isinstance(event, DeliveryReport):
        return apply_report(channel, event, ignore_unknown=kind.ignores_unknown_reports)
    raise TypeError(f"unexpected callback event {event!r}")


def report_urls(kind: ChannelType) -> list[URLPattern]:
    prefix = kind.callback_path
    return [
        path(
            f"{prefix}/<str:channel_uuid>/<str:secret>/<str:action>", report_endpoint(kind), name=kind.callback_url_name
        ),
        # The URL shape from before callbacks had secrets: refused, saying what changed.
        path(f"{prefix}/<str:channel_uuid>/<str:action>", missing_secret),
    ]


urlpatterns = [url for kind in TYPES.values() if kind.callback_path for url in report_urls(kind)]
