"""Delivery reports for `external` channels: `/c/ex/<channel uuid>/<sent|delivered|failed>`, by GET or POST, with
the message UUID (`{{id}}` when it was sent) as `id` in the query string, a form body or a JSON body.

Answers: 200 `{"message": "Status Update Accepted", "data": [...]}` (also when the report is older news than the
message's status, which then stays as it is: `changed` is false); 400 for a missing, malformed or unknown `id`;
404 for an unknown channel or report kind.
"""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from herald.channels.callbacks import ReportRejected, apply_report, find_channel, rejected, request_value
from herald.msgs.models import MsgStatus

from .sender import ExternalType

REPORTS = {"sent": MsgStatus.SENT, "delivered": MsgStatus.DELIVERED, "failed": MsgStatus.FAILED}


@csrf_exempt
@require_http_methods(["GET", "POST"])
def status_report(request, channel_uuid: str, report: str):
    try:
        if report not in REPORTS:
            raise ReportRejected(404, f"unknown report {report!r}: use one of {', '.join(REPORTS)}")
        channel = find_channel(ExternalType.code, channel_uuid)
        item = apply_report(channel, request_value(request, "id"), REPORTS[report])
    except ReportRejected as exc:
        return rejected(request, exc)
    return JsonResponse({"message": "Status Update Accepted", "data": [item]})
