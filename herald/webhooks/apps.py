from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "herald.webhooks"
    label = "webhooks"
