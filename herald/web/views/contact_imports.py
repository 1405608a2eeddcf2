"""Importing contacts from a CSV file: the upload form, then the import's page, whose progress htmx polls until it
is done. The file is checked and kept by `herald.contacts.imports` and imported by a task on the queue, through
the importer `herald contact import` uses (its header and row checks, its writes)."""

from django import forms
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from herald.api.v2.endpoints.media import MULTIPART_OVERHEAD_BYTES
from herald.contacts import imports, tasks
from herald.contacts.models import ContactImport
from herald.msgs.tasks import send_after_commit
from herald.web.access import CAN_SEND, WebRequest, page

RECENT_IMPORTS_SHOWN = 10
# What a page lists of an import's bad rows (it keeps up to ContactImport.MAX_LISTED_ERRORS).
ERRORS_SHOWN = 200


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "A header line naming the columns: name, language, urn:tel (or another urn:SCHEME) and field:KEY. "
            "A row whose URN is known updates that contact; the others create contacts."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    group = forms.CharField(
        label=gettext_lazy("Add them to a group (optional)"),
        required=False,
        max_length=64,
        help_text=gettext_lazy("Created if the workspace has no group of that name."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        head = upload.read(imports.SNIFF_BYTES)
        upload.seek(0)
        try:
            imports.check_upload(upload.name, upload.size, head)
        except imports.NotImportable as exc:
            raise forms.ValidationError(str(exc)) from None
        return upload

    def clean_group(self):
        name = self.cleaned_data["group"]
        if name:
            try:
                imports.check_group_name(name)
            except imports.NotImportable as exc:
                raise forms.ValidationError(str(exc)) from None
        return name


# Admins and editors, as for creating groups on the API: an agent sees contacts but doesn't bring in thousands.
@page(roles=CAN_SEND)
def import_contacts(request: WebRequest) -> HttpResponse:
    form, refusal, status = ImportForm(), "", 200
    if request.method == "POST":
        if _declared_length(request) > imports.max_bytes() + MULTIPART_OVERHEAD_BYTES:
            # Refused before the body is read (and spooled to disk) at all.
            limit = imports.size_text(imports.max_bytes())
            refusal = _("The file is larger than the largest file Herald imports (%(limit)s).") % {"limit": limit}
            status = 400
        else:
            form = ImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                job = imports.create_import(
                    request.workspace, request.user, upload.name, upload.read(), form.cleaned_data["group"] or None
                )
                send_after_commit(tasks.import_contacts, job.pk)
                return redirect("web.contact_import", uuid=job.uuid)
            status = 400
    recent = (
        ContactImport.objects.filter(workspace=request.workspace)
        .defer("content", "errors")
        .order_by("-created_on", "-id")[:RECENT_IMPORTS_SHOWN]
    )
    limit = imports.size_text(imports.max_bytes())
    context = {"nav": "contacts", "form": form, "refusal": refusal, "recent": recent, "limit": limit}
    return render(request, "web/contacts/import.html", context, status=status)


def _declared_length(request: WebRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@page(roles=CAN_SEND, methods=("GET", "HEAD"))
def contact_import(request: WebRequest, uuid) -> HttpResponse:
    return render(request, "web/contacts/import_progress.html", _progress_context(request, uuid))


@page(roles=CAN_SEND, methods=("GET", "HEAD"))
def import_progress(request: WebRequest, uuid) -> HttpResponse:
    """What htmx polls every second while the import runs: one indexed read of the import's row."""
    return render(request, "web/contacts/_import_status.html", _progress_context(request, uuid))


def _progress_context(request: WebRequest, uuid) -> dict:
    # Never the file itself: it may be megabytes, and the page needs none of it.
    job = get_object_or_404(ContactImport.objects.filter(workspace=request.workspace).defer("content"), uuid=uuid)
    return {
        "nav": "contacts",
        "job": job,
        "errors_shown": job.errors[:ERRORS_SHOWN] if job.is_finished else [],
        "errors_more": max(0, job.error_count - ERRORS_SHOWN) if job.is_finished else 0,
    }


urlpatterns = [
    path("import", import_contacts, name="web.contacts_import"),
    path("imports/<uuid:uuid>/", contact_import, name="web.contact_import"),
    path("imports/<uuid:uuid>/progress", import_progress, name="web.contact_import_progress"),
]
