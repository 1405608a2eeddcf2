"""Callback URLs of channel types (`/c/...`): where gateways report what became of the messages they were given.

Each carries the channel's secret before the action (see herald/channels/callbacks.py).
"""

from django.urls import path

from herald.channels import callbacks
from herald.channels.external import views as external

urlpatterns = [
    path("ex/<str:channel_uuid>/<str:secret>/<str:action>", external.callback, name="channels.external.callback"),
    path("ex/<str:channel_uuid>/<str:action>", callbacks.missing_secret),
]
