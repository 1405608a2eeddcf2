"""Delivery reports for `external` channels: `/c/ex/<channel uuid>/<secret>/<sent|delivered|failed>`, by GET or
POST, with the message UUID (`{{id}}` when it was sent) as `id` in the query string, a form body or a JSON body.

Answers: 200 `{"message": "Status Update Accepted", "data": [...]}` (also when the report is older news than the
message's status, which then stays as it is: `changed` is false); 400 for a missing, malformed or unknown `id` or
an unreadable body; 403 for a wrong or missing secret or a disabled channel; 404 for an unknown channel or report.
"""

from django.http import JsonResponse

from herald.channels.callbacks import CallbackRejected, apply_report, channel_callback, request_value
from herald.msgs.models import MsgStatus

from .sender import ExternalType

REPORTS = {"sent": MsgStatus.SENT, "delivered": MsgStatus.DELIVERED, "failed": MsgStatus.FAILED}


@channel_callback(ExternalType.code)
def callback(request, channel, action: str):
    if action not in REPORTS:
        raise CallbackRejected(404, f"unknown report {action!r}: use one of {', '.join(REPORTS)}")
    item = apply_report(channel, request_value(request, "id"), REPORTS[action])
    return JsonResponse({"message": "Status Update Accepted", "data": [item]})
