"""Contacts: the list with its search, a contact's page (URNs, fields, groups, status with block / unblock, the
status history, its messages), the groups and a group's members. Every list is keyset-paged on an index
(`?after=<uuid of the last row shown>`), and no page counts the contacts table.
"""

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from rest_framework.exceptions import ValidationError

from herald.api.v2.endpoints.contact_actions import ContactActionSerializer
from herald.contacts import group_counts, search, urns
from herald.contacts import groups as group_rules
from herald.contacts.models import Contact, ContactField, ContactGroup, ContactStatus, ContactURN
from herald.msgs.models import Msg, MsgVisibility
from herald.web.access import WebRequest, in_workspace, page
from herald.web.views import contact_imports

PAGE_SIZE = 50
STATUS_HISTORY_SHOWN = 20
Membership = ContactGroup.contacts.through


@dataclass
class Page:
    rows: list
    next_after: str | None  # the `after` of the next page, None on the last one


def _paged(rows: QuerySet, cursor=lambda row: row.uuid) -> Page:
    found = list(rows[: PAGE_SIZE + 1])
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    return Page(found, str(cursor(found[-1])) if more else None)


def _after(request: WebRequest, queryset: QuerySet, param: str = "after"):
    """The row named by `?after=` (a UUID, looked up in this workspace's rows only), or None on a first page."""
    value = request.GET.get(param)
    if not value:
        return None
    try:
        wanted = uuid.UUID(value)
    except ValueError:
        raise Http404 from None
    found = queryset.filter(uuid=wanted).first()
    if found is None:
        raise Http404
    return found


def shown_urn(urn: ContactURN, workspace) -> str:
    """A URN as this workspace may see it: an anonymous one never shows the path."""
    return urns.redacted(urn.scheme) if workspace.is_anonymous else urn.identity


def _with_urns(contacts: list[Contact], workspace) -> list[Contact]:
    """Each contact gets `shown_urns`, preferred first (the URNs of the whole page are read in one query)."""
    by_contact: dict[int | None, list[str]] = {}
    for urn in ContactURN.objects.filter(contact__in=contacts).order_by("-priority", "id"):
        by_contact.setdefault(urn.contact_id, []).append(shown_urn(urn, workspace))
    for contact in contacts:
        contact.shown_urns = by_contact.get(contact.pk, [])  # type: ignore[attr-defined]  # for the template
    return contacts


# The list and its search --------------------------------------------------------------------------------------


@page(methods=("GET", "HEAD"))
def contacts(request: WebRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    found = search.read_query(query, request.workspace)
    if found.urn is not None:
        listed = Page(list(search.with_urn(request.workspace, found.urn)), None)
    elif found.name_prefix:
        listed = _by_name(request, found.name_prefix)
    else:
        listed = _recent(request)
    _with_urns(listed.rows, request.workspace)
    context = {"nav": "contacts", "page": listed, "q": query.strip(), "by_urn": found.urn is not None}
    if request.headers.get("HX-Target") == "contact-results":  # search-as-you-type: the results alone
        return render(request, "web/contacts/_results.html", context)
    return render(request, "web/contacts/list.html", context)


def _recent(request: WebRequest) -> Page:
    """Most recently changed first (the API's order and index)."""
    rows = search.active_contacts(request.workspace).order_by("-modified_on", "-id")
    last = _after(request, Contact.objects.filter(workspace=request.workspace))
    if last is not None:
        rows = rows.filter(modified_on__lte=last.modified_on).filter(
            Q(modified_on__lt=last.modified_on) | Q(id__lt=last.pk)
        )
    return _paged(rows)


def _by_name(request: WebRequest, prefix: str) -> Page:
    last = _after(request, search.with_name_key(Contact.objects.filter(workspace=request.workspace)))
    after = (last.name_key, last.pk) if last is not None else None
    return _paged(search.by_name_prefix(request.workspace, prefix, after=after))


# A contact's page ----------------------------------------------------------------------------------------------


@page(methods=("GET", "HEAD"))
def contact(request: WebRequest, uuid: uuid.UUID) -> HttpResponse:
    shown = in_workspace(request, Contact, uuid=uuid, is_active=True)
    names = dict(ContactField.objects.filter(workspace=request.workspace).values_list("key", "name"))
    fields = [(names.get(key, key), value) for key, value in sorted(shown.fields.items())]
    messages = (
        Msg.objects.filter(contact=shown)
        .exclude(visibility=MsgVisibility.DELETED)
        .select_related("channel")
        .order_by("-created_on", "-id")
    )
    last = _after(request, Msg.objects.filter(contact=shown), param="before")
    if last is not None:
        messages = messages.filter(created_on__lte=last.created_on).filter(
            Q(created_on__lt=last.created_on) | Q(id__lt=last.pk)
        )
    context = {
        "nav": "contacts",
        "contact": shown,
        "urns": [shown_urn(urn, request.workspace) for urn in shown.urns.all()],
        "fields": fields,
        "groups": group_rules.active_groups(request.workspace).filter(contacts=shown).order_by("name"),
        "history": shown.status_changes.select_related("created_by").order_by("-id")[:STATUS_HISTORY_SHOWN],
        "contact_messages": _paged(messages),
        "is_blocked": shown.status == ContactStatus.BLOCKED,
    }
    return render(request, "web/contacts/contact.html", context)


def _status_action(action: str):
    """block / unblock: the API's contact_actions.json serializer does it (its checks, its writes, who did it)."""

    @page(methods=("POST",))
    def act(request: WebRequest, uuid: uuid.UUID) -> HttpResponse:
        target = in_workspace(request, Contact, uuid=uuid, is_active=True)
        action_request = ContactActionSerializer(
            data={"contacts": [str(target.uuid)], "action": action},
            context={"workspace": request.workspace, "user": request.user},
        )
        try:
            action_request.is_valid(raise_exception=True)
            with transaction.atomic():
                action_request.save()
        except ValidationError:
            raise Http404 from None  # deleted meanwhile: it is no longer there to act on
        return redirect("web.contact", uuid=target.uuid)

    act.__name__ = act.__qualname__ = action
    return act


# Groups --------------------------------------------------------------------------------------------------------


@page(methods=("GET", "HEAD"))
def groups(request: WebRequest) -> HttpResponse:
    # A workspace has at most ContactGroup.MAX_PER_WORKSPACE groups: one page, no paging.
    listed = group_counts.with_member_counts(group_rules.active_groups(request.workspace)).order_by("name", "id")
    return render(request, "web/contacts/groups.html", {"nav": "contacts", "groups": listed})


@page(methods=("GET", "HEAD"))
def group(request: WebRequest, uuid: uuid.UUID) -> HttpResponse:
    # No member count here: counting a big group's members costs seconds (the groups list shows them).
    shown = get_object_or_404(group_rules.active_groups(request.workspace), uuid=uuid)
    # Newest members first, walked on the memberships' (group, contact) index.
    members = Membership.objects.filter(contactgroup=shown).order_by("-contact_id")
    last = _after(request, Contact.objects.filter(workspace=request.workspace))
    if last is not None:
        members = members.filter(contact_id__lt=last.pk)
    ids = list(members.values_list("contact_id", flat=True)[: PAGE_SIZE + 1])
    by_id = Contact.objects.in_bulk(ids[:PAGE_SIZE])
    listed = Page(
        _with_urns([by_id[i] for i in ids[:PAGE_SIZE]], request.workspace),
        str(by_id[ids[PAGE_SIZE - 1]].uuid) if len(ids) > PAGE_SIZE else None,
    )
    return render(request, "web/contacts/group.html", {"nav": "contacts", "group": shown, "page": listed})


urlpatterns = [
    path("", contacts, name="web.contacts"),
    path("<uuid:uuid>/", contact, name="web.contact"),
    path("<uuid:uuid>/block", _status_action("block"), name="web.contact_block"),
    path("<uuid:uuid>/unblock", _status_action("unblock"), name="web.contact_unblock"),
    path("groups/", groups, name="web.groups"),
    path("groups/<uuid:uuid>/", group, name="web.group"),
    *contact_imports.urlpatterns,
]
