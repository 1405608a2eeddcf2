from .base import BaseEndpoint


class ContactsEndpoint(BaseEndpoint):
    """Not built yet."""

    endpoint_name = "contacts"
    title = "Contacts"
