"""The compose page: recipients, a text per workspace language (with its SMS counter and `@` completion),
attachments, quick replies, schedule, repeat and send window; a preview (the API's dry run) before Send creates the
broadcast and lands on its page.

The form is turned into the body of `POST /api/v2/broadcasts.json` (herald/web/compose_body.py) and checked,
previewed and created by that endpoint's own serializer and functions: the page has no rule of its own. Attachments
are uploaded by the page's script to `POST /api/v2/media.json` with the session, so an upload gets the API's checks.
"""

import json
import secrets
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from herald.api.v2.base import sending_blocker
from herald.api.v2.endpoints.broadcasts import MAX_PER_SECOND, BroadcastWriteSerializer, dry_run_answer, start_sending
from herald.contacts.models import ContactField
from herald.languages import language_name
from herald.media.models import Media
from herald.msgs.models import Broadcast
from herald.msgs.segments import count_segments, is_gsm7
from herald.web import recipients
from herald.web.access import CAN_SEND, WebRequest, page
from herald.web.compose_body import (
    FORM,
    REPEATS,
    WINDOW_ANY,
    WINDOW_CUSTOM,
    WINDOW_WORKSPACE,
    ComposeForm,
    digest,
    placed_errors,
)
from herald.workspaces.models import Global, Workspace
from herald.workspaces.send_window import DAY_NAMES

CONTACT_EXPRESSIONS = (
    ("@contact.name", gettext_lazy("Name")),
    ("@contact.first_name", gettext_lazy("First name")),
    ("@contact.urn", gettext_lazy("Preferred URN")),
    ("@contact.language", gettext_lazy("Language")),
    ("@contact.uuid", gettext_lazy("UUID")),
)
# How long a preview's Send is remembered, so that sending it again lands on the broadcast it made.
SENT_ONCE_SECONDS = 24 * 3600
REPEAT_LABELS = {
    "": gettext_lazy("Does not repeat"),
    "daily": gettext_lazy("Every day"),
    "weekly": gettext_lazy("Every week"),
    "monthly": gettext_lazy("Every month"),
    "yearly": gettext_lazy("Every year"),
}


@page(roles=CAN_SEND)
def compose(request: WebRequest) -> HttpResponse:
    languages = request.workspace.languages or [request.workspace.primary_language]
    if request.method != "POST":
        return show(request, ComposeForm(languages))
    form = ComposeForm.from_post(request.POST, languages)
    body = form.body(request.workspace)
    serializer, errors = checked(request, body)
    if serializer is None:
        return show(request, form, body, errors=placed_errors(errors, languages), status=400)
    fingerprint = digest(body)
    wants_send = request.POST.get("action") == "send"
    once = request.POST.get("once", "")
    if wants_send and once and request.POST.get("previewed") == fingerprint:
        return redirect(send_once(request, serializer, once))
    # A preview; or a Send after the form changed since its preview, which shows the new preview instead.
    preview = dry_run_answer(serializer)
    return show(request, form, body, preview=preview, fingerprint=fingerprint, changed=wants_send)


def checked(request: WebRequest, body: dict) -> tuple[BroadcastWriteSerializer | None, dict]:
    """The API's checks of a POST to broadcasts.json, in its order: the valid serializer, or the 400's body."""
    blocker = sending_blocker(request.workspace)
    if blocker:
        return None, {"non_field_errors": [blocker]}
    serializer = BroadcastWriteSerializer(data=body, context={"workspace": request.workspace, "user": request.user})
    if not serializer.is_valid():
        return None, serializer.errors
    return serializer, {}


def send_once(request: WebRequest, serializer: BroadcastWriteSerializer, once: str) -> str:
    """Send, once a preview: a second Send of one preview (a double click, a page sent again) makes no second
    broadcast and lands where the first did. `once` is the preview's own random key; the cache's `add` claims it
    atomically (Redis with a broker; the embedded server is one process)."""
    key = f"web.compose.sent:{request.user.pk}:{once}"
    if not cache.add(key, "", SENT_ONCE_SECONDS):
        sent = cache.get(key)
        return broadcast_page(sent) if sent else reverse("web.broadcasts")
    try:
        broadcast = send(serializer)
    except BaseException:
        cache.delete(key)
        raise
    cache.set(key, str(broadcast.uuid), SENT_ONCE_SECONDS)
    return broadcast_page(str(broadcast.uuid))


def send(serializer: BroadcastWriteSerializer) -> Broadcast:
    """As the API's POST does: the broadcast written in one transaction, its sending queued once committed."""
    with transaction.atomic():
        broadcast = serializer.save()
    start_sending(broadcast)
    return broadcast


def broadcast_page(uuid: str) -> str:
    """The new broadcast's own page (views/broadcasts.py)."""
    return reverse("web.broadcast", kwargs={"uuid": uuid})


def show(
    request: WebRequest,
    form: ComposeForm,
    body: dict | None = None,
    *,
    errors: dict[str, list[str]] | None = None,
    preview: dict | None = None,
    fingerprint: str = "",
    changed: bool = False,
    status: int = 200,
) -> HttpResponse:
    workspace, errors = request.workspace, errors or {}
    context = {
        "nav": "compose",
        "form": form,
        "errors": errors,
        "form_errors": errors.get(FORM, []),
        "recipients": recipients.chosen(workspace, form.recipients),
        "languages": language_blocks(workspace, form, errors),
        "expressions": expressions(workspace),
        "repeats": [(value, REPEAT_LABELS[value]) for value in REPEATS],
        "days": [(day, day in form.window_days) for day in DAY_NAMES],
        "windows": {"workspace": WINDOW_WORKSPACE, "any": WINDOW_ANY, "custom": WINDOW_CUSTOM},
        "workspace_window": described_window(workspace),
        "max_per_second": MAX_PER_SECOND,
        "preview": preview and preview_figures(preview),
        "fingerprint": fingerprint,
        "once": secrets.token_urlsafe(16),
        "changed": changed,
        "body_json": json.dumps(body, indent=2, ensure_ascii=False) if body is not None else "",
    }
    return render(request, "web/compose/compose.html", context, status=status)


def language_blocks(workspace: Workspace, form: ComposeForm, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """One fieldset a workspace language: its text (and counter), attachments and quick replies, each with errors."""
    uuids = [uuid for media in form.attachments.values() for uuid in media]
    media = {str(m.uuid): m for m in Media.objects.filter(workspace=workspace, uuid__in=recipients.valid_uuids(uuids))}
    blocks = []
    for lang in form.languages:
        text, attached = form.texts.get(lang, ""), form.attachments.get(lang, [])
        blocks.append(
            {
                "code": lang,
                "name": language_name(lang),
                "text": text,
                "count": counter(text),
                "attachments": [(uuid, media[uuid].filename if uuid in media else uuid) for uuid in attached],
                "quick_replies": form.quick_replies.get(lang, ""),
                "errors": {part: errors.get(f"{part}_{lang}", []) for part in ("text", "attachments", "quick_replies")},
            }
        )
    return blocks


def counter(text: str) -> str:
    """`143 characters, 1 SMS segment (GSM-7)`: the text as the API keeps it (trimmed), counted by the rule the
    fan-out uses (herald/msgs/segments.py), before its @expressions are filled in."""
    text = text.strip()
    segments = count_segments(text)
    return _("%(characters)s, %(segments)s (%(encoding)s)") % {
        "characters": ngettext("%(n)d character", "%(n)d characters", len(text)) % {"n": len(text)},
        "segments": ngettext("%(n)d SMS segment", "%(n)d SMS segments", segments) % {"n": segments},
        "encoding": "GSM-7" if is_gsm7(text) else "UCS-2",
    }


def expressions(workspace: Workspace) -> list[tuple[str, str]]:
    """What `@` offers: the contact's own values, the workspace's contact fields and its globals (250 each at most)."""
    fields = ContactField.objects.filter(workspace=workspace).order_by("key").values_list("key", "name")
    workspace_globals = Global.objects.filter(workspace=workspace).order_by("key").values_list("key", "name")
    return [
        *((expression, str(label)) for expression, label in CONTACT_EXPRESSIONS),
        *((f"@fields.{key}", name) for key, name in fields),
        *((f"@globals.{key}", name) for key, name in workspace_globals),
    ]


def described_window(workspace: Workspace) -> str:
    window = workspace.send_window
    if not window:
        return _("any time")
    zone = window.get("timezone") or workspace.timezone
    return f"{', '.join(window['days'])} {window['start']}-{window['end']} ({zone})"


def preview_figures(plan: dict) -> dict:
    """The dry run's answer, with the non-zero reasons picked out for the page."""
    return {
        **plan,
        "excluded_reasons": [(reason, n) for reason, n in plan["excluded"].items() if n],
        "left_out_reasons": [(status, n) for status, n in plan["left_out"].items() if n],
    }


@page(roles=CAN_SEND, methods=("POST",))
def count(request: WebRequest) -> HttpResponse:
    """The counter line of one language's text (htmx, as the text is typed): `?lang=eng` names the text box."""
    text = request.POST.get(f"text_{request.GET.get('lang', '')}", "")
    return render(request, "web/compose/_count.html", {"count": counter(text)})


@page(roles=CAN_SEND, methods=("GET", "HEAD"))
def search(request: WebRequest) -> HttpResponse:
    """Recipients matching what is typed (htmx, as it is typed): at most 10, see herald/web/recipients.py."""
    query = request.GET.get("q", "")
    found = recipients.search(request.workspace, query)
    return render(request, "web/compose/_results.html", {"found": found, "query": query.strip()})


urlpatterns = [
    path("", compose, name="web.compose"),
    path("count", count, name="web.compose_count"),
    path("recipients", search, name="web.compose_search"),
]
