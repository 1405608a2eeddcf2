from .base import BaseEndpoint


class MediaEndpoint(BaseEndpoint):
    """Not built yet."""

    endpoint_name = "media"
    title = "Media"
