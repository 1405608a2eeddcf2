"""The values a message template sees for one contact: @contact, @fields, @urns and @globals."""

from collections.abc import Mapping
from datetime import UTC, tzinfo
from typing import Any

from herald.contacts.field_values import template_values
from herald.contacts.urns import redacted


def contact_context(
    contact: Any,
    urns: list[Any],
    group_names: list[str] | None,
    workspace_globals: dict[str, Any],
    *,
    anonymous: bool,
    field_types: Mapping[str, str] | None = None,
    zone: tzinfo = UTC,
) -> dict[str, Any]:
    """`urns` are the contact's ContactURNs, highest priority first. In an `anonymous` workspace every URN is
    redacted here, at the root, so that no path, index or function in a template can reach a number.

    `field_types` (key → type) makes number fields numbers and datetime fields datetimes in `zone` (the workspace's
    timezone), so that they render as RapidPro's expressions render them; a field not in it is text."""
    shown = [(urn.scheme, shown_urn(urn, anonymous)) for urn in urns]
    preferred = shown[0][1] if shown else ""
    name = contact.name or ""
    fields = template_values(contact.fields or {}, field_types or {}, zone)
    by_scheme: dict[str, str] = {}
    for scheme, text in shown:
        by_scheme.setdefault(scheme, text)
    return {
        "contact": {
            "__default__": name or preferred,
            "uuid": str(contact.uuid),
            "name": name,
            "first_name": name.split()[0] if name.split() else "",
            "language": contact.language or "",
            "status": contact.get_status_display(),
            "urn": preferred,
            "urns": [text for _, text in shown],
            "created_on": contact.created_on.astimezone(zone),  # as every datetime: in the workspace timezone
            "groups": group_names or [],
            "fields": fields,
        },
        "fields": fields,
        "urns": by_scheme,
        "globals": workspace_globals or {},
    }


def shown_urn(urn: Any, anonymous: bool) -> str:
    """The text a template gets for a URN: its identity, or in an anonymous workspace the API's mask."""
    return redacted(urn.scheme) if anonymous else str(urn.identity)
