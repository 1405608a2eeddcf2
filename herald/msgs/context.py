"""The values a message template sees for one contact: @contact, @fields, @urns and @globals."""


def contact_context(contact, urns: list, group_names: list[str] | None, workspace_globals: dict) -> dict:
    """`urns` are the contact's ContactURNs, highest priority first."""
    preferred = str(urns[0].identity) if urns else ""
    name = contact.name or ""
    by_scheme = {}
    for urn in urns:
        by_scheme.setdefault(urn.scheme, urn.identity)
    return {
        "contact": {
            "__default__": name or preferred,
            "uuid": str(contact.uuid),
            "name": name,
            "first_name": name.split()[0] if name.split() else "",
            "language": contact.language or "",
            "status": contact.get_status_display(),
            "urn": preferred,
            "urns": [u.identity for u in urns],
            "created_on": contact.created_on,
            "groups": group_names or [],
            "fields": contact.fields or {},
        },
        "fields": contact.fields or {},
        "urns": by_scheme,
        "globals": workspace_globals or {},
    }
