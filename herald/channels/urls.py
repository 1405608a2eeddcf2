"""Callback URLs of channel types (`/c/...`): where gateways report what became of the messages they were given."""

from django.urls import path

from herald.channels.external import views as external

urlpatterns = [
    path("ex/<str:channel_uuid>/<str:report>", external.status_report, name="channels.external.report"),
]
