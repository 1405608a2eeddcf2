from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "herald.api"
    label = "api"

    def ready(self):
        # Webhook events show objects as this API does: hand herald.webhooks the serializers that render them.
        from herald.api.v2 import event_payloads  # noqa: PLC0415 — needs the app registry, ready only now

        event_payloads.register()
