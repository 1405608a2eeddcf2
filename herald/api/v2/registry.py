"""Every endpoint of the API, in the order the docs list them: read by the URLconf (`urls.py`) and the docs
(`docs.py`), so neither imports the other for it. A new endpoint is one line here."""

from .broadcasts import BroadcastsEndpoint
from .contacts import ContactsEndpoint
from .fields_endpoint import FieldsEndpoint
from .groups import GroupsEndpoint
from .media import MediaEndpoint
from .messages import MessagesEndpoint
from .workspace import WorkspaceEndpoint

ENDPOINTS = [
    BroadcastsEndpoint,
    MessagesEndpoint,
    ContactsEndpoint,
    GroupsEndpoint,
    FieldsEndpoint,
    MediaEndpoint,
    WorkspaceEndpoint,
]
# Older names kept for clients that still call them (`org.json` is what rapidpro-python's get_org() requests).
ALIASES = {"org": WorkspaceEndpoint}
