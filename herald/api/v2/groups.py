from .base import BaseEndpoint


class GroupsEndpoint(BaseEndpoint):
    """Not built yet."""

    endpoint_name = "groups"
    title = "Groups"
