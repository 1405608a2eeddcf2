"""The channels pages: the list, a channel's page (its rate, state, callback URLs and recent logs), adding one of
each type, and disabling / enabling it.

Only administrators add, disable or enable channels and see callback URLs (they carry the channel's secret);
editors and agents see the list and the logs. Creating is `registry.create_channel` then the type's `activate`
(herald/channels/callbacks.py `activate_channel`), as `herald channel add` does; the logs are the stored ones,
redacted when they were written (herald/channels/channel_logs.py), as channel_logs.json shows them.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from herald.channels.callbacks import activate_channel, callback_urls
from herald.channels.models import Channel, ChannelLog
from herald.channels.registry import TYPES, ChannelConfigError, get_type
from herald.web.access import ADMINS, WebRequest, in_workspace, is_admin, page
from herald.web.channel_form import ChannelForm
from herald.web.paging import BadCursor, newest_first

LOGS_PAGE_SIZE = 20


def rate(channel: Channel) -> str:
    return _("%(tps)d/s") % {"tps": channel.tps} if channel.tps else _("unlimited")


@page(methods=("GET", "HEAD"))
def channels(request: WebRequest) -> HttpResponse:
    rows = [
        (channel, TYPES[channel.channel_type].name if channel.channel_type in TYPES else channel.channel_type)
        for channel in Channel.objects.filter(workspace=request.workspace).order_by("created_on", "id")
    ]
    context = {"rows": rows, "rate": rate, "types": TYPES.values(), "nav": "channels"}
    return render(request, "web/channels/list.html", context)


@page(methods=("GET", "HEAD"))
def channel(request: WebRequest, uuid: str) -> HttpResponse:
    found = in_workspace(request, Channel, uuid=uuid)
    kind = get_type(found.channel_type)
    try:
        logs = newest_first(ChannelLog.objects.filter(channel=found), request.GET.get("before"), LOGS_PAGE_SIZE)
    except BadCursor:
        return render(
            request,
            "web/bad_request.html",
            {"message": _("That page of logs doesn't exist: start from the newest.")},
            status=400,
        )
    admin = is_admin(request)
    context = {
        "channel": found,
        "kind": kind,
        "rate": rate(found),
        # The URLs carry the channel's secret: administrators only.
        "callback_urls": callback_urls(found) if admin else {},
        "without_base_url": not settings.BASE_URL,
        "listing": logs,
        "logs": logs.rows,
        "nav": "channels",
    }
    return render(request, "web/channels/detail.html", context)


@page(roles=ADMINS)
def add_channel(request: WebRequest, code: str) -> HttpResponse:
    kind = TYPES.get(code)
    if kind is None:
        raise Http404("no such channel type")
    form = ChannelForm(kind, request.POST if request.method == "POST" else None)
    if form.is_bound:
        created = form.add(request.workspace)
        if created is not None:
            try:
                activated = activate_channel(created)
            except ChannelConfigError as exc:
                form.add_error(None, _("Channel not added: %(reason)s") % {"reason": exc})
            else:
                messages.success(request, _("Channel added.") + (f" {activated}" if activated else ""))
                return redirect("web.channel", uuid=created.uuid)
        form.hide_secrets()
    context = {"form": form, "kind": kind, "nav": "channels"}
    return render(request, "web/channels/add.html", context, status=400 if form.is_bound else 200)


@page(roles=ADMINS, methods=("POST",))
def channel_state(request: WebRequest, uuid: str) -> HttpResponse:
    """Disable or enable, as `herald channel disable|enable`: a disabled channel sends nothing and refuses its
    callbacks; its queued messages wait."""
    found = in_workspace(request, Channel, uuid=uuid)
    action = request.POST.get("action", "")
    if action not in ("disable", "enable"):
        return render(request, "web/bad_request.html", {"message": _("Unknown action: disable or enable.")}, status=400)
    Channel.objects.filter(id=found.id).update(is_active=action == "enable")
    if action == "enable":
        messages.success(request, _("Channel enabled: its waiting messages go out."))
    else:
        messages.success(
            request, _("Channel disabled: it sends nothing and refuses its callbacks; its queued messages wait.")
        )
    return redirect("web.channel", uuid=found.uuid)


urlpatterns = [
    path("", channels, name="web.channels"),
    path("new/<str:code>", add_channel, name="web.channel_add"),
    path("<uuid:uuid>/", channel, name="web.channel"),
    path("<uuid:uuid>/state", channel_state, name="web.channel_state"),
]
