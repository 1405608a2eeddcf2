"""Every endpoint of the API, in the order the docs list them: read by the URLconf (`urls.py`) and the docs
(`docs.py`), so neither imports the other for it. A new endpoint is one line here."""

from .endpoints.broadcast_actions import BroadcastActionsEndpoint
from .endpoints.broadcasts import BroadcastsEndpoint
from .endpoints.channel_logs import ChannelLogsEndpoint
from .endpoints.channels import ChannelsEndpoint
from .endpoints.contact_actions import ContactActionsEndpoint
from .endpoints.contacts import ContactsEndpoint
from .endpoints.fields import FieldsEndpoint
from .endpoints.globals_ import GlobalsEndpoint
from .endpoints.groups import GroupsEndpoint
from .endpoints.media import MediaEndpoint
from .endpoints.messages import MessagesEndpoint
from .endpoints.schedules import SchedulesEndpoint
from .endpoints.templates import TemplatesEndpoint
from .endpoints.webhook_deliveries import WebhookDeliveriesEndpoint
from .endpoints.webhooks import WebhooksEndpoint
from .endpoints.workspace import WorkspaceEndpoint

ENDPOINTS = [
    BroadcastsEndpoint,
    SchedulesEndpoint,
    BroadcastActionsEndpoint,
    MessagesEndpoint,
    ContactsEndpoint,
    ContactActionsEndpoint,
    GroupsEndpoint,
    FieldsEndpoint,
    MediaEndpoint,
    WorkspaceEndpoint,
    ChannelsEndpoint,
    ChannelLogsEndpoint,
    TemplatesEndpoint,
    GlobalsEndpoint,
    WebhooksEndpoint,
    WebhookDeliveriesEndpoint,
]
# Older names kept for clients that still call them (`org.json` is what rapidpro-python's get_org() requests).
ALIASES = {"org": WorkspaceEndpoint}
