"""Delivery reports for `external` channels: `/c/ex/<channel uuid>/<secret>/<sent|delivered|failed>`, by GET or
POST, with the message UUID (`{{id}}` when it was sent) as `id` in the query string, a form body or a JSON body.

This reads the request (which message, which status); `herald.msgs.reports` finds the message and applies it.
Answers: 200 `{"message": "Status Update Accepted", "data": [...]}` (also when the report is older news than the
message's status, which then stays as it is: `changed` is false); 400 for a missing, malformed or unknown `id` or
an unreadable body; 403 for a wrong or missing secret or a disabled channel; 404 for an unknown channel or report.
"""

import uuid

from django.http import HttpRequest

from herald.channels.base import REPORTED_STATUSES, DeliveryReport
from herald.channels.callback_requests import CallbackRejected, request_value

# The action in the URL is the status's name.
ACTIONS = REPORTED_STATUSES


def read_report(request: HttpRequest, action: str) -> DeliveryReport:
    if action not in ACTIONS:
        raise CallbackRejected(404, f"unknown callback {action!r}: use one of {', '.join(ACTIONS)}, receive or stopped")
    msg_id = request_value(request, "id")
    if not msg_id:
        raise CallbackRejected(400, "missing id: give the message UUID as `id` in the query string or the body")
    try:
        msg_uuid = uuid.UUID(msg_id.strip())
    except ValueError:
        raise CallbackRejected(400, f"id must be a message UUID, got {msg_id[:100]!r}") from None
    return DeliveryReport(msg_uuid, action)
