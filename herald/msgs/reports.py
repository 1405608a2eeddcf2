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
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, path

from herald.channels.base import ChannelType, DeliveryReport, IncomingMessage, StopSignal
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

STATUSES = {"sent": MsgStatus.SENT, "delivered": MsgStatus.DELIVERED, "failed": MsgStatus.FAILED}


def apply_report(channel: Channel, report: DeliveryReport) -> dict[str, Any]:
    """Apply a report to the channel's message it names; the response's `data` item."""
    msg = Msg.objects.outgoing().filter(uuid=report.msg_uuid, channel=channel).first()
    if msg is None:
        raise CallbackRejected(400, f"no message {report.msg_uuid} was sent through this channel")

    new_status = STATUSES[report.status]
    changed = apply_status(msg, new_status)
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
    def receive(request: HttpRequest, channel: Channel, action: str) -> JsonResponse:
        # Every callback the channel's secret let in is kept in its channel log, answer included, refused or not.
        started, msg_uuid, body = time.monotonic(), None, callback_body(request)
        try:
            event = kind.read_callback(request, channel, action)
            if isinstance(event, IncomingMessage):
                received = inbound.receive(channel, event)
                item = inbound.received_item(channel, received.msg)
                response = JsonResponse({"message": "Message Accepted", "data": [item]})
            elif isinstance(event, StopSignal):
                inbound.stop(channel, event)
                response = JsonResponse({"message": "Event Accepted", "data": [inbound.stop_item(channel, event)]})
            else:
                msg_uuid = event.msg_uuid
                response = JsonResponse({"message": "Status Update Accepted", "data": [apply_report(channel, event)]})
        except CallbackRejected as exc:
            response = rejected(request, exc)
        record_callback(channel, request, body, response, started, msg_uuid)
        return response

    return receive


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
