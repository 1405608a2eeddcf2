from django.apps import AppConfig


class MsgsConfig(AppConfig):
    name = "herald.msgs"
    label = "msgs"
