"""The settings pages: the workspace's settings (languages, timezone, quiet hours, opt-out words and
confirmations), its API tokens and its webhooks.

Every check is the CLI's or the API's own: the workspace form's fields are read by provisioning.py's parsers
and saved by `update_workspace` (what `herald workspace update` does), tokens are `create_token` /
`revoke_tokens` (`herald token ...`), webhooks are written by the API's `WebhookWriteSerializer` and deleted by
`subscriptions.unsubscribe` (webhooks.json). Members see the workspace's settings; only administrators change them,
and only they see tokens and webhooks (the API's ADMIN_ONLY).
"""

from typing import cast

from django import forms
from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from herald.api.v2.endpoints.webhooks import WebhookWriteSerializer
from herald.web.access import ADMINS, WebRequest, in_workspace, is_admin, page
from herald.web.paging import BadCursor, newest_first
from herald.webhooks import subscriptions
from herald.webhooks.models import EVENT_TYPES, MAX_BATCH_SIZE, MESSAGE_STATUSES, Delivery, Webhook
from herald.workspaces import optout_words, provisioning
from herald.workspaces.provisioning import ProvisioningError

DELIVERIES_PAGE_SIZE = 25


def _lines(mapping: dict) -> str:
    """`{"kin": ["HAGARIKA", "REKA"]}` → `kin=HAGARIKA,REKA`, one language a line: what the form shows and reads."""
    return "\n".join(f"{lang}={','.join(v) if isinstance(v, list) else v}" for lang, v in (mapping or {}).items())


def _compact(window: dict | None) -> str:
    """A stored send window in the command line's form (`send_window.parse_compact` reads it back)."""
    if not window:
        return "none"
    text = f"{','.join(window['days'])} {window['start']}-{window['end']}"
    return f"{text} {window['timezone']}" if window.get("timezone") else text


class WorkspaceForm(forms.Form):
    languages = forms.CharField(
        label=gettext_lazy("Languages"),
        required=False,
        help_text=gettext_lazy("ISO 639-3 codes, comma-separated; the first is the primary language."),
    )
    timezone = forms.CharField(
        label=gettext_lazy("Timezone"), required=False, help_text=gettext_lazy("An IANA zone, e.g. Africa/Kigali.")
    )
    send_window = forms.CharField(
        label=gettext_lazy("Quiet hours: when messages may be sent"),
        required=False,
        help_text=gettext_lazy(
            "E.g. “mon-fri 08:00-20:00” (in the workspace's timezone unless a zone follows), or “none”."
        ),
    )
    stop_words = forms.CharField(
        label=gettext_lazy("Stop words added to the defaults"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One language a line: kin=HAGARIKA,REKA"),
    )
    start_words = forms.CharField(
        label=gettext_lazy("Start words added to the defaults"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One language a line: kin=TANGIRA"),
    )
    stop_confirmations = forms.CharField(
        label=gettext_lazy("Confirmation sent to a contact who stops"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One language a line: eng=You will get no more messages. Send START to resume."),
    )

    def __init__(self, workspace, *args, **kwargs):
        self.workspace = workspace
        initial = {
            "languages": ",".join(workspace.languages),
            "timezone": workspace.timezone,
            "send_window": _compact(workspace.send_window),
            "stop_words": _lines(workspace.stop_words),
            "start_words": _lines(workspace.start_words),
            "stop_confirmations": _lines(workspace.stop_confirmations),
        }
        super().__init__(*args, initial=initial, **kwargs)

    # Each field alone through the CLI's parser, so its message shows beside it; `save` then checks them together.
    def clean_languages(self):
        return self._checked(
            provisioning.parse_languages, [c for c in self.cleaned_data["languages"].split(",") if c.strip()]
        )

    def clean_timezone(self):
        return self._checked(provisioning.parse_timezone, self.cleaned_data["timezone"] or None, self.workspace.country)

    def clean_send_window(self):
        text = self.cleaned_data["send_window"].strip() or "none"
        self._checked(provisioning.parse_send_window, text)
        return text

    def _optout_items(self, name: str) -> list[str]:
        """The textarea's lines as the CLI's LANGUAGE=VALUE items, and `LANGUAGE=` for each language removed."""
        items = [line.strip() for line in self.cleaned_data[name].splitlines() if line.strip()]
        given = {item.partition("=")[0].strip().lower() for item in items}
        return items + [f"{lang}=" for lang in getattr(self.workspace, name) or {} if lang not in given]

    def clean_stop_words(self):
        items = self._optout_items("stop_words")
        self._checked_optout(optout_words.updated_words, self.workspace.stop_words, items, "--stop-words")
        return items

    def clean_start_words(self):
        items = self._optout_items("start_words")
        self._checked_optout(optout_words.updated_words, self.workspace.start_words, items, "--start-words")
        return items

    def clean_stop_confirmations(self):
        items = self._optout_items("stop_confirmations")
        self._checked_optout(optout_words.updated_confirmations, self.workspace.stop_confirmations, items)
        return items

    @staticmethod
    def _checked(parse, *args):
        try:
            return parse(*args)
        except ProvisioningError as exc:
            raise forms.ValidationError(str(exc)) from None

    @staticmethod
    def _checked_optout(update, *args):
        try:
            return update(*args)
        except optout_words.OptOutWordsError as exc:
            raise forms.ValidationError(str(exc)) from None

    def save(self) -> bool:
        """Write every field through `update_workspace` (all checked before any is written); False with the error
        above the form if they don't go together (a word both stop and start)."""
        data = self.cleaned_data
        try:
            provisioning.update_workspace(
                self.workspace,
                languages=data["languages"],
                timezone=data["timezone"],
                send_window=data["send_window"],
                stop_words=data["stop_words"],
                start_words=data["start_words"],
                stop_confirmations=data["stop_confirmations"],
            )
        except ProvisioningError as exc:
            self.add_error(None, str(exc))
            return False
        return True


def _forbidden(request: WebRequest) -> HttpResponse:
    return render(request, "web/forbidden.html", status=403)


@page()
def workspace_settings(request: WebRequest) -> HttpResponse:
    """Every member sees the settings; only administrators send the form."""
    admin = is_admin(request)
    if request.method == "POST" and not admin:
        return _forbidden(request)
    form = WorkspaceForm(request.workspace, request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid() and form.save():
        messages.success(request, _("Settings saved."))
        return redirect("web.settings")
    context = {
        "form": form,
        "is_admin": admin,
        "described": optout_words.described(request.workspace),
        "nav": "settings",
    }
    return render(request, "web/settings/workspace.html", context, status=400 if form.is_bound else 200)


@page(roles=ADMINS, methods=("GET", "HEAD"))
def tokens(request: WebRequest) -> HttpResponse:
    context = {"tokens": provisioning.active_tokens(request.workspace), "nav": "settings"}
    return render(request, "web/settings/tokens.html", context)


@never_cache  # the key is in this answer: no cache keeps it
@page(roles=ADMINS, methods=("POST",))
def create_token(request: WebRequest) -> HttpResponse:
    """A new key for the signed-in administrator, shown in this answer only (only its hash is kept)."""
    token, key = provisioning.create_token(request.workspace, request.user.username)
    context = {"tokens": provisioning.active_tokens(request.workspace), "new_key": key, "new_token": token}
    return render(request, "web/settings/tokens.html", {**context, "nav": "settings"})


@page(roles=ADMINS, methods=("POST",))
def revoke_token(request: WebRequest) -> HttpResponse:
    try:
        revoked = provisioning.revoke_tokens(request.workspace, [request.POST.get("token", "")])
    except ProvisioningError as exc:
        messages.error(request, str(exc))
    else:
        if revoked:
            messages.success(
                request, _("Token %(prefix)s… revoked: it no longer works.") % {"prefix": revoked[0].prefix}
            )
        else:
            messages.error(request, _("That token was already revoked."))
    return redirect("web.tokens")


class WebhookForm(forms.Form):
    """The add form's inputs; WebhookWriteSerializer (the API's) checks them."""

    url = forms.CharField(label=gettext_lazy("URL"), required=False, strip=False)
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        required=False,
        choices=[(name, name) for name in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
    )
    statuses = forms.MultipleChoiceField(
        label=gettext_lazy("Only these message statuses (none: all)"),
        required=False,
        choices=[(name, name) for name in MESSAGE_STATUSES],
        widget=forms.CheckboxSelectMultiple,
    )
    batch_size = forms.CharField(
        label=gettext_lazy("Events per POST"),
        required=False,
        help_text=gettext_lazy('1 (default): one event per POST; up to %(max)d as {"events": [...]}')
        % {"max": MAX_BATCH_SIZE},
    )


def _webhook_body(form: forms.Form) -> dict:
    """What the form sent, in webhooks.json's body shape (raw values: the serializer checks them)."""
    data = cast(QueryDict, form.data)  # a bound form's data: the request's POST
    body: dict[str, object] = {
        "url": data.get("url", ""),
        "events": data.getlist("events"),
        "statuses": data.getlist("statuses"),
    }
    batch_size = (data.get("batch_size") or "").strip()
    if batch_size:
        body["batch_size"] = batch_size
    return body


def _serializer_errors(form: forms.Form, errors: dict) -> None:
    for field, problems in errors.items():
        if isinstance(problems, dict):  # a list field's errors by item: {"0": ["…"]}
            problems = [p for item in problems.values() for p in item]
        for problem in problems:
            form.add_error(field if field in form.fields else None, str(problem))


@page(roles=ADMINS)
def webhooks(request: WebRequest) -> HttpResponse:
    form = WebhookForm(request.POST if request.method == "POST" else None)
    created = None
    if form.is_bound:
        serializer = WebhookWriteSerializer(
            data=_webhook_body(form), context={"workspace": request.workspace, "user": request.user}
        )
        if serializer.is_valid():
            created = serializer.save()
            form = WebhookForm()
        else:
            form.is_valid()
            _serializer_errors(form, serializer.errors)
    context = {
        "form": form,
        "created": created,  # its secret is shown this once
        "webhooks": Webhook.objects.filter(workspace=request.workspace).order_by("-created_on", "-id"),
        "nav": "settings",
    }
    status = 400 if form.is_bound and form.errors else 200
    response = render(request, "web/settings/webhooks.html", context, status=status)
    if created:
        response["Cache-Control"] = "no-store"
    return response


@page(roles=ADMINS, methods=("GET", "HEAD"))
def webhook(request: WebRequest, uuid: str) -> HttpResponse:
    found = in_workspace(request, Webhook, uuid=uuid)
    deliveries = Delivery.objects.filter(webhook=found).select_related("event").prefetch_related("attempt_rows")
    try:
        listing = newest_first(deliveries, request.GET.get("before"), DELIVERIES_PAGE_SIZE)
    except BadCursor:
        message = _("That page of deliveries doesn't exist: start from the newest.")
        return render(request, "web/bad_request.html", {"message": message}, status=400)
    context = {"webhook": found, "listing": listing, "deliveries": listing.rows, "nav": "settings"}
    return render(request, "web/settings/webhook.html", context)


@page(roles=ADMINS, methods=("POST",))
def delete_webhook(request: WebRequest, uuid: str) -> HttpResponse:
    found = in_workspace(request, Webhook, uuid=uuid)
    subscriptions.unsubscribe(found)
    messages.success(request, _("Webhook to %(url)s removed.") % {"url": found.url})
    return redirect("web.webhooks")


urlpatterns = [
    path("", workspace_settings, name="web.settings"),
    path("tokens/", tokens, name="web.tokens"),
    path("tokens/new", create_token, name="web.token_create"),
    path("tokens/revoke", revoke_token, name="web.token_revoke"),
    path("webhooks/", webhooks, name="web.webhooks"),
    path("webhooks/<uuid:uuid>/", webhook, name="web.webhook"),
    path("webhooks/<uuid:uuid>/delete", delete_webhook, name="web.webhook_delete"),
]
