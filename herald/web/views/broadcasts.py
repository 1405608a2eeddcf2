"""The broadcasts list and a broadcast's page (its progress polled while it moves, its actions, its messages).

Every number comes from the API's own code: counts from `broadcast_counts` (the trigger-kept rows), status names
from messages.json's, recipients from `attach_recipient_refs`, actions from msgs/control.py as
`broadcast_actions.json` does them. Query counts: the list is 6 queries whatever its page size (session, user,
membership, the page with its counts, contacts and groups named); one poll of the list is the same 6, one poll of a
broadcast's progress 6 too (the chart's samples are one indexed query).
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from herald.api.v2.endpoints.broadcast_counts import attach_counts, counts_of, with_count_rows
from herald.api.v2.endpoints.broadcasts import attach_recipient_refs
from herald.api.v2.endpoints.messages import FAILED_REASON_NAMES, STATUS_CODES, STATUS_NAMES
from herald.channels.models import ChannelLog
from herald.msgs import control
from herald.msgs.models import Broadcast, BroadcastStatus, Msg
from herald.msgs.tasks import enqueue_resumed
from herald.web import progress
from herald.web.access import CAN_SEND, WebRequest, in_workspace, page
from herald.web.paging import BadCursor, newest_first
from herald.webhooks.models import EVENT_TYPES, Delivery

PAGE_SIZE = 25
MESSAGES_PAGE_SIZE = 50
BROADCAST_EVENTS = tuple(name for name in EVENT_TYPES if name.startswith("broadcast."))
# The message filters the page offers: messages.json's status names for outgoing messages.
MESSAGE_STATUSES = tuple(name for name in dict.fromkeys(STATUS_NAMES.values()) if name != "handled")
DONE = {
    "pause": gettext_lazy("Broadcast paused: nothing more is sent until you resume it."),
    "resume": gettext_lazy("Broadcast resumed."),
    "interrupt": gettext_lazy("Broadcast interrupted: its messages not sent yet have failed."),
}


@dataclass(frozen=True)
class Shown:
    """A broadcast as the pages show it."""

    broadcast: Broadcast
    counts: dict[str, int]
    bar: progress.Bar
    moving: bool

    @property
    def uuid(self) -> str:
        return str(self.broadcast.uuid)

    @property
    def status(self) -> str:
        b = self.broadcast
        if b.status == BroadcastStatus.PENDING and b.send_at is not None:
            return "scheduled"
        return BroadcastStatus(b.status).label

    @property
    def text(self) -> str:
        texts = self.broadcast.content.text_by_language()
        return texts.get(self.broadcast.base_language) or next((t for t in texts.values() if t), "") or ""

    @property
    def groups(self) -> dict[str, int]:
        return progress.grouped(self.counts)


def shown(broadcast: Broadcast) -> Shown:
    counts = progress.status_counts(broadcast)
    return Shown(broadcast, counts, progress.bar(broadcast, counts), progress.is_moving(broadcast, counts))


def _broadcasts(request: WebRequest):
    return with_count_rows(Broadcast.objects.filter(workspace=request.workspace, is_active=True))


def _bad_request(request: WebRequest, message: str) -> HttpResponse:
    return render(request, "web/bad_request.html", {"message": message}, status=400)


@page(methods=("GET", "HEAD"))
def broadcasts(request: WebRequest) -> HttpResponse:
    try:
        listing = newest_first(_broadcasts(request), request.GET.get("before"), PAGE_SIZE)
    except BadCursor:
        return _bad_request(request, _("That page of broadcasts doesn't exist: start from the newest."))
    attach_counts(listing.rows)
    attach_recipient_refs(listing.rows)
    rows = [shown(b) for b in listing.rows]
    context = {
        "rows": rows,
        "listing": listing,
        "polling": any(row.moving for row in rows),
        "poll_seconds": settings.WEB_POLL_SECONDS,
        "nav": "broadcasts",
    }
    # htmx's poll asks for the rows alone: the same query, a smaller answer.
    template = "web/broadcasts/_rows.html" if request.htmx else "web/broadcasts/list.html"
    return render(request, template, context)


def _one(request: WebRequest, uuid: str) -> Shown:
    broadcast = in_workspace(request, _broadcasts(request), uuid=uuid, is_active=True)
    attach_counts([broadcast])
    return shown(broadcast)


def _progress_context(request: WebRequest, one: Shown, **extra: object) -> dict:
    counts = counts_of(one.broadcast)
    has_unsent = bool(one.counts["queued"] or one.counts["errored"])
    return {
        "one": one,
        "failed_reasons": {reason: n for reason, n in counts["failed_reasons"].items() if n},
        "excluded": {why: n for why, n in counts.get("excluded", {}).items() if n},
        "chart": progress.chart(one.broadcast, one.counts),
        "actions": control.allowed_actions(one.broadcast, has_unsent) if request.membership.role in CAN_SEND else [],
        "poll_seconds": settings.WEB_POLL_SECONDS,
        **extra,
    }


@page(methods=("GET", "HEAD"))
def broadcast(request: WebRequest, uuid: str) -> HttpResponse:
    one = _one(request, uuid)
    status = request.GET.get("status") or ""
    if status and status not in MESSAGE_STATUSES:
        return _bad_request(request, _("Unknown status %(status)s: choose one of the filters.") % {"status": status})
    msgs = Msg.objects.filter(broadcast=one.broadcast).select_related("contact", "contact_urn", "channel")
    # One indexed query per stored status of the filter ("errored" is two), merged: `newest_first`.
    by_status = [Q(status=code) for code in STATUS_CODES[status]] if status else []
    try:
        listing = newest_first(msgs, request.GET.get("before"), MESSAGES_PAGE_SIZE, one_of=by_status)
    except BadCursor:
        return _bad_request(request, _("That page of messages doesn't exist: start from the newest."))
    attach_recipient_refs([one.broadcast])
    content = one.broadcast.content
    attachments, replies = content.attachments_by_language(), content.quick_replies_by_language()
    languages = [
        {"code": code, "text": text, "attachments": attachments.get(code, []), "quick_replies": replies.get(code, [])}
        for code, text in content.text_by_language().items()
    ]
    deliveries = (
        Delivery.objects.filter(
            event__workspace=request.workspace, event__type__in=BROADCAST_EVENTS, event__subject_id=one.broadcast.id
        )
        .select_related("webhook", "event")
        .order_by("-created_on", "-id")[:20]
    )
    context = _progress_context(
        request,
        one,
        languages=languages,
        msg_rows=[
            (msg, STATUS_NAMES[msg.status], FAILED_REASON_NAMES.get(msg.failed_reason or "")) for msg in listing.rows
        ],
        listing=listing,
        status_filter=status,
        message_statuses=MESSAGE_STATUSES,
        deliveries=deliveries,
        nav="broadcasts",
    )
    return render(request, "web/broadcasts/detail.html", context)


@page(methods=("GET", "HEAD"))
def broadcast_progress(request: WebRequest, uuid: str) -> HttpResponse:
    """The part of a broadcast's page that moves while it sends: what htmx polls."""
    return render(request, "web/broadcasts/_progress.html", _progress_context(request, _one(request, uuid)))


@page(roles=CAN_SEND, methods=("POST",))
def broadcast_action(request: WebRequest, uuid: str) -> HttpResponse:
    """Pause, resume or interrupt, as broadcast_actions.json does (the same control.act, in one transaction)."""
    action = request.POST.get("action", "")
    if action not in control.ACTIONS:
        return _bad_request(request, _("Unknown action: pause, resume or interrupt."))
    broadcast = in_workspace(request, Broadcast, uuid=uuid, is_active=True)
    try:
        with transaction.atomic():
            resumed = control.act(action, [broadcast])
    except control.ActionRefused as refused:  # e.g. it completed meanwhile: nothing was changed
        messages.error(request, str(refused))
    else:
        enqueue_resumed(resumed)
        messages.success(request, DONE[action])
    return redirect("web.broadcast", uuid=broadcast.uuid)


@page(methods=("GET", "HEAD"))
def message_log(request: WebRequest, uuid: str, msg_uuid: str) -> HttpResponse:
    """What Herald and the gateway said to each other about one of the broadcast's messages (redacted at write)."""
    broadcast = in_workspace(request, Broadcast, uuid=uuid, is_active=True)
    msg = get_object_or_404(Msg.objects.select_related("contact", "channel"), broadcast=broadcast, uuid=msg_uuid)
    if msg.workspace_id != request.workspace.id:
        raise Http404
    logs = ChannelLog.objects.filter(msg_uuid=msg.uuid, channel__workspace=request.workspace).order_by(
        "-created_on", "-id"
    )[:50]
    context = {
        "broadcast": broadcast,
        "msg": msg,
        "status": STATUS_NAMES[msg.status],
        "logs": logs,
        "nav": "broadcasts",
    }
    return render(request, "web/broadcasts/message_log.html", context)


urlpatterns = [
    path("", broadcasts, name="web.broadcasts"),
    path("<uuid:uuid>/", broadcast, name="web.broadcast"),
    path("<uuid:uuid>/progress", broadcast_progress, name="web.broadcast_progress"),
    path("<uuid:uuid>/action", broadcast_action, name="web.broadcast_action"),
    path("<uuid:uuid>/messages/<uuid:msg_uuid>/log", message_log, name="web.message_log"),
]
