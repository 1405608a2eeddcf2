"""Contacts: the list with its search, a contact's page (URNs, fields, groups, status with block / unblock, the
status history, its messages), the groups and a group's members. Every list is keyset-paged on an index
(`?after=<uuid of the last row shown>`), and no page counts the contacts table.
"""

import uuid

from django.db import transaction
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
from herald.web.paging import Page, after_named, uuid_of
from herald.web.views import contact_imports

PAGE_SIZE = 50
STATUS_HISTORY_SHOWN = 20
Membership = ContactGroup.contacts.through


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
        listed = Page.whole(list(search.with_urn(request.workspace, found.urn)))
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
    return after_named(
        search.active_contacts(request.workspace),
        ("-modified_on", "-id"),
        Contact.objects.filter(workspace=request.workspace),
        request.GET.get("after"),
        PAGE_SIZE,
    )


def _by_name(request: WebRequest, prefix: str) -> Page:
    return after_named(
        search.by_name_prefix(request.workspace, prefix),
        search.NAME_ORDER,
        search.with_name_key(Contact.objects.filter(workspace=request.workspace)),
        request.GET.get("after"),
        PAGE_SIZE,
    )


# A contact's page ----------------------------------------------------------------------------------------------


@page(methods=("GET", "HEAD"))
def contact(request: WebRequest, uuid: uuid.UUID) -> HttpResponse:
    shown = in_workspace(request, Contact, uuid=uuid, is_active=True)
    names = dict(ContactField.objects.filter(workspace=request.workspace).values_list("key", "name"))
    fields = [(names.get(key, key), value) for key, value in sorted(shown.fields.items())]
    messages = after_named(
        Msg.objects.filter(contact=shown).exclude(visibility=MsgVisibility.DELETED).select_related("channel"),
        ("-created_on", "-id"),
        Msg.objects.filter(contact=shown),
        request.GET.get("before"),  # its messages are older: the link reads "Older messages"
        PAGE_SIZE,
    )
    context = {
        "nav": "contacts",
        "contact": shown,
        "urns": [shown_urn(urn, request.workspace) for urn in shown.urns.all()],
        "fields": fields,
        "groups": group_rules.active_groups(request.workspace).filter(contacts=shown).order_by("name"),
        "history": shown.status_changes.select_related("created_by").order_by("-id")[:STATUS_HISTORY_SHOWN],
        "contact_messages": messages,
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
    # Newest members first, walked on the memberships' (group, contact) index; then their contacts by id. (Not a
    # join: PostgreSQL merges it with the contacts' primary key read from the top, whatever page is asked for.)
    ids = after_named(
        Membership.objects.filter(contactgroup=shown).values_list("contact_id", flat=True),
        ("-contact_id",),
        Contact.objects.filter(workspace=request.workspace),
        request.GET.get("after"),
        PAGE_SIZE,
        key=lambda contact: (contact.pk,),
    )
    by_id = Contact.objects.in_bulk(ids.rows)
    listed = ids.with_rows(_with_urns([by_id[i] for i in ids.rows], request.workspace), uuid_of)
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
