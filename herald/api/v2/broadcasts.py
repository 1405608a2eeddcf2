from .base import BaseEndpoint


class BroadcastsEndpoint(BaseEndpoint):
    """Not built yet."""

    endpoint_name = "broadcasts"
    title = "Broadcasts"
