from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "herald.media"
    label = "media"
