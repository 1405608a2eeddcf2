from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "herald.web"
    label = "web"
    verbose_name = "Herald web interface"
