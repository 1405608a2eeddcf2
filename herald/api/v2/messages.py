from .base import BaseEndpoint


class MessagesEndpoint(BaseEndpoint):
    """Not built yet."""

    endpoint_name = "messages"
    title = "Messages"
