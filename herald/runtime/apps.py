from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    name = "herald.runtime"
    label = "runtime"
